{#
    Daily sentiment per brand, its baselines and spike flags, and its share of voice among its peers.

    Incremental per affected brand-day. Every figure here follows from the daily counts (and the brands' settings),
    so the counts are the test of what changed: the brand-days whose counts differ from the built ones (new posts,
    edits, re-enrichment, deletions and erasure alike; a day that lost all its posts is deleted by the post-hook),
    then the days whose figures read them: the same brand's next 28 days (the 7- and 28-day baselines) and, on the
    same day, every brand that counts the changed one among its peers (share of voice). Counting is one pass over
    fct_posts' inbound posts; only the affected brand-days are windowed and written. A change to a brand's
    industry is caught (it is a column); a change to its competitors needs `socialcx transform --full-refresh
    --select mart_sentiment+`.
#}
{{
    config(
        materialized='incremental',
        unique_key=['brand', 'activity_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} as built where not exists (select 1 from {{ ref('fct_posts') }} as posts where posts.is_inbound and posts.sentiment_label is not null and posts.brand = built.brand and posts.created_date = built.activity_date)"
    )
}}

with posts as (
    select * from {{ ref('fct_posts') }}
    where is_inbound and sentiment_label is not null
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

daily as (
    select
        posts.brand,
        posts.created_date as activity_date,
        brands.industry,
        count(*) as post_count,
        count(*) filter (where sentiment_label = 'positive') as positive_count,
        count(*) filter (where sentiment_label = 'neutral') as neutral_count,
        count(*) filter (where sentiment_label = 'negative') as negative_count
    from posts
    inner join brands
        on posts.brand = brands.brand
    group by posts.brand, posts.created_date, brands.industry
),

-- whom a brand's voice is measured against: itself and its configured competitors, or, when it has none
-- configured, every brand of its industry
peers as (
    select brands.brand, peer.brand as peer_brand
    from brands
    inner join brands as peer
        on case
            when coalesce({{ list_length('brands.competitors') }}, 0) > 0
                then peer.brand = brands.brand
                or exists (
                    select 1 from unnest(brands.competitors) as competitor(name)
                    where lower(competitor.name) = lower(peer.brand)
                )
            else peer.industry = brands.industry
        end
),

voice as (
    select peers.brand, daily.activity_date, sum(daily.post_count) as peer_post_count
    from peers
    inner join daily
        on peers.peer_brand = daily.brand
    group by peers.brand, daily.activity_date
),

{% if is_incremental() %}
changed_days as (
    -- brand-days whose counts (or industry) differ from what was built, including days that lost every post
    select coalesce(daily.brand, built.brand) as brand, coalesce(daily.activity_date, built.activity_date) as activity_date
    from daily
    full outer join {{ this }} as built
        on daily.brand = built.brand
        and daily.activity_date = built.activity_date
    where daily.brand is null
        or built.brand is null
        or daily.post_count <> built.post_count
        or daily.positive_count <> built.positive_count
        or daily.neutral_count <> built.neutral_count
        or daily.negative_count <> built.negative_count
        or daily.industry is distinct from built.industry
),

affected as (
    -- the changed day and the 28 after it (their baselines read it) ...
    select changed_days.brand, cast(changed_days.activity_date + offsets.days * interval '1 day' as date) as activity_date
    from changed_days
    cross join (select {{ int_series('0', '28') }} as days) as offsets
    union
    -- ... and the same day of every brand whose share of voice counts the changed brand
    select peers.brand, changed_days.activity_date
    from changed_days
    inner join peers
        on changed_days.brand = peers.peer_brand
),

reach as (
    -- what the affected days' windows read: their brand's days from 28 days before the first of them
    select brand, min(activity_date) - 28 as first_date
    from affected
    group by brand
),

{% endif %}
scored as (
    select
        daily.*,
        cast(daily.positive_count - daily.negative_count as double precision)
            / nullif(daily.positive_count + daily.negative_count, 0)
            as net_sentiment,
        cast(daily.post_count as double precision) / voice.peer_post_count as share_of_voice
    from daily
    inner join voice
        on daily.brand = voice.brand
        and daily.activity_date = voice.activity_date
    {% if is_incremental() %}
    inner join reach
        on daily.brand = reach.brand
        and daily.activity_date >= reach.first_date
    {% endif %}
),

windowed as (
    select
        *,
        avg(net_sentiment) over last_7_days as net_sentiment_7d_baseline,
        avg(net_sentiment) over last_28_days as net_sentiment_28d_baseline,
        stddev_samp(net_sentiment) over last_7_days as net_sentiment_7d_sd,
        avg(negative_count) over last_7_days as negative_count_7d_mean,
        count(*) over last_7_days as baseline_days,
        stddev_samp(negative_count) over last_7_days as negative_count_7d_sd
    from scored
    window
        last_7_days as (
            partition by brand order by activity_date
            range between interval '7 days' preceding and interval '1 day' preceding
        ),
        last_28_days as (
            partition by brand order by activity_date
            range between interval '28 days' preceding and interval '1 day' preceding
        )
),

final as (
    select
        brand,
        activity_date,
        industry,
        post_count,
        positive_count,
        neutral_count,
        negative_count,
        net_sentiment,
        net_sentiment_7d_baseline,
        net_sentiment_28d_baseline,
        negative_count_7d_mean,
        negative_count_7d_sd,
        baseline_days,
        -- a spike needs volume (spike_min_negatives) and a baseline (spike_min_baseline_days of the previous 7
        -- with posts): three negative posts on a quiet day, or a brand's first day, are not a spike
        coalesce(
            negative_count >= {{ number_var('spike_min_negatives') }}
            and baseline_days >= {{ number_var('spike_min_baseline_days') }}
            and negative_count > negative_count_7d_mean + {{ number_var('spike_k') }} * negative_count_7d_sd,
            false
        ) as is_negative_spike,
        coalesce(
            baseline_days >= {{ number_var('spike_min_baseline_days') }}
            and net_sentiment < net_sentiment_7d_baseline - {{ number_var('spike_k') }} * net_sentiment_7d_sd,
            false
        ) as is_sentiment_dip,
        share_of_voice
    from windowed
    {% if is_incremental() %}
    where (brand, activity_date) in (select brand, activity_date from affected)
    {% endif %}
)

select * from final
