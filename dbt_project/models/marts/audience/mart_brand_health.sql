{#
    The seed's two dimensions of customer service on social media, per brand and month, each an index from 0 to
    100: reputation (what the public hears) and loyalty (what customers then do). Every component is shown on
    the same 0-100 scale next to the index; the weights are vars (reputation_weights, loyalty_weights). A
    component with no data that month is left out and the others' weights are rescaled.
#}
{%- set rep = number_dict_var('reputation_weights') -%}
{%- set loy = number_dict_var('loyalty_weights') -%}
with daily as (
    select * from {{ ref('mart_amplification_daily') }}
),

sentiment as (
    select * from {{ ref('mart_sentiment') }}
),

months as (
    select
        brand,
        date_trunc('month', activity_date)::date as activity_month,
        sum(positive_reach) as positive_reach,
        sum(negative_reach) as negative_reach,
        sum(wildfire_count) as wildfire_count,
        sum(complaint_count) as complaint_count
    from daily
    group by 1, 2
),

voice as (
    -- share of voice over the month: the brand's posts / its peers' (mart_sentiment), day shares weighted by posts
    select
        brand,
        date_trunc('month', activity_date)::date as activity_month,
        sum(post_count) / sum(post_count / share_of_voice) as share_of_voice
    from sentiment
    where share_of_voice > 0
    group by 1, 2
),

-- retention: of the customers who bought from the brand in the three months before the last three, the share who
-- bought again in the last three (this month and the two before it); trailing windows only, so a month's figure
-- never changes when later orders arrive. Who counts is int_brand_buyer_retention's (incremental per customer).
retention as (
    select
        brand,
        activity_month,
        count(*) as earlier_customers,
        count(*) filter (where bought_again) as retained_customers
    from {{ ref('int_brand_buyer_retention') }}
    group by 1, 2
),

wallet as (
    select
        brand,
        activity_month::date as activity_month,
        cast(sum(avg_observed_share * customers) as double precision) / sum(customers) as observed_share,
        cast(sum(avg_war_predicted_share * customers) as double precision) / sum(customers) as war_predicted_share
    from {{ ref('mart_wallet_share_brands') }}
    group by 1, 2
),

recovery as (
    select brand, activity_month, sum(recovered_count) as recovered_count, sum(negative_start_count) as negative_start_count
    from {{ ref('mart_customer_recovery') }}
    group by 1, 2
),

components as (
    select
        months.brand,
        months.activity_month,
        cast((months.positive_reach - months.negative_reach) as double precision) / nullif(months.positive_reach + months.negative_reach, 0)
            as reach_weighted_net_sentiment,
        voice.share_of_voice,
        months.wildfire_count,
        cast(retention.retained_customers as double precision) / nullif(retention.earlier_customers, 0) as retention_rate,
        wallet.observed_share,
        wallet.war_predicted_share,
        cast(recovery.recovered_count as double precision) / nullif(recovery.negative_start_count, 0) as recovery_rate
    from months
    left join voice
        on months.brand = voice.brand
        and months.activity_month = voice.activity_month
    left join retention
        on months.brand = retention.brand
        and months.activity_month = retention.activity_month
    left join wallet
        on months.brand = wallet.brand
        and months.activity_month = wallet.activity_month
    left join recovery
        on months.brand = recovery.brand
        and months.activity_month = recovery.activity_month
),

scored as (
    select
        *,
        -- reputation: net sentiment -1..1 mapped to 0..100; share of voice as a percentage; wildfires 100 / (1 + n)
        50 * (1 + reach_weighted_net_sentiment) as sentiment_score,
        100 * share_of_voice as share_of_voice_score,
        100.0 / (1 + wildfire_count) as wildfire_score,
        -- loyalty: retention and recovery as percentages; wallet share 50 when it is what the Wallet Allocation
        -- Rule predicts for the brand's satisfaction rank, 100 at twice that or more
        100 * retention_rate as retention_score,
        -- (least() skips nulls in DuckDB: a month without wallet data must stay null, not become 100)
        case when war_predicted_share > 0 then least(100, 50 * observed_share / war_predicted_share) end
            as wallet_share_score,
        100 * recovery_rate as recovery_score
    from components
),

final as (
    select
        scored.*,
        -- the month the data ends in is still running: its figures move, and a report should not draw it
        scored.activity_month + interval '1 month' > (select as_of_at from {{ ref('int_as_of') }})::date
            as is_partial_month,
        (
            coalesce({{ rep['sentiment'] }} * sentiment_score, 0)
            + coalesce({{ rep['share_of_voice'] }} * share_of_voice_score, 0)
            + coalesce({{ rep['wildfires'] }} * wildfire_score, 0)
        ) / nullif(
            case when sentiment_score is null then 0 else {{ rep['sentiment'] }} end
            + case when share_of_voice_score is null then 0 else {{ rep['share_of_voice'] }} end
            + case when wildfire_score is null then 0 else {{ rep['wildfires'] }} end,
            0
        ) as reputation_index,
        (
            coalesce({{ loy['retention'] }} * retention_score, 0)
            + coalesce({{ loy['wallet_share'] }} * wallet_share_score, 0)
            + coalesce({{ loy['recovery'] }} * recovery_score, 0)
        ) / nullif(
            case when retention_score is null then 0 else {{ loy['retention'] }} end
            + case when wallet_share_score is null then 0 else {{ loy['wallet_share'] }} end
            + case when recovery_score is null then 0 else {{ loy['recovery'] }} end,
            0
        ) as loyalty_index
    from scored
)

select * from final
