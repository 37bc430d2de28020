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
            negative_count >= {{ var('spike_min_negatives') }}
            and baseline_days >= {{ var('spike_min_baseline_days') }}
            and negative_count > negative_count_7d_mean + {{ var('spike_k') }} * negative_count_7d_sd,
            false
        ) as is_negative_spike,
        coalesce(
            baseline_days >= {{ var('spike_min_baseline_days') }}
            and net_sentiment < net_sentiment_7d_baseline - {{ var('spike_k') }} * net_sentiment_7d_sd,
            false
        ) as is_sentiment_dip,
        share_of_voice
    from windowed
)

select * from final
