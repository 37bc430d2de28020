{#
    Per brand and day: the audience complaints reached, wildfires, and net sentiment weighted by the audience
    each author speaks to, next to the plain one. Days are the conversation's (or post's) first day, UTC.
#}
with amplification as (
    select * from {{ ref('mart_amplification') }}
),

posts as (
    select posts.brand, posts.created_date, posts.sentiment_label, authors.followers_count
    from {{ ref('fct_posts') }} as posts
    left join {{ ref('stg_raw__authors') }} as authors
        on posts.source = authors.source
        and posts.author_id = authors.author_id
    where posts.is_inbound and posts.sentiment_label is not null
),

conversation_days as (
    select
        brand,
        first_inbound_date as activity_date,
        count(*) as conversation_count,
        count(*) filter (where is_negative_start) as complaint_count,
        count(*) filter (where is_wildfire) as wildfire_count,
        count(*) filter (where is_negative_start and not is_responded) as unanswered_complaint_count,
        coalesce(sum(potential_reach) filter (where is_negative_start and not is_responded), 0)
            as unanswered_complaint_audience,
        coalesce(sum(reach_while_unanswered) filter (where is_negative_start), 0) as complaint_audience_before_reply,
        coalesce(sum(potential_reach), 0) as potential_reach,
        coalesce(sum(engagement_count), 0) as engagement_count
    from amplification
    group by 1, 2
),

sentiment_days as (
    select
        brand,
        created_date as activity_date,
        count(*) filter (where sentiment_label = 'positive') as positive_count,
        count(*) filter (where sentiment_label = 'negative') as negative_count,
        -- each author weighs their followers plus one (themselves): an author of unknown audience counts once
        sum(coalesce(followers_count, 0) + 1) filter (where sentiment_label = 'positive') as positive_reach,
        sum(coalesce(followers_count, 0) + 1) filter (where sentiment_label = 'negative') as negative_reach
    from posts
    group by 1, 2
),

final as (
    select
        coalesce(conversation_days.brand, sentiment_days.brand) as brand,
        coalesce(conversation_days.activity_date, sentiment_days.activity_date) as activity_date,
        coalesce(conversation_days.conversation_count, 0) as conversation_count,
        coalesce(conversation_days.complaint_count, 0) as complaint_count,
        coalesce(conversation_days.wildfire_count, 0) as wildfire_count,
        coalesce(conversation_days.unanswered_complaint_count, 0) as unanswered_complaint_count,
        coalesce(conversation_days.unanswered_complaint_audience, 0) as unanswered_complaint_audience,
        coalesce(conversation_days.complaint_audience_before_reply, 0) as complaint_audience_before_reply,
        coalesce(conversation_days.potential_reach, 0) as potential_reach,
        coalesce(conversation_days.engagement_count, 0) as engagement_count,
        coalesce(sentiment_days.positive_count, 0) as positive_count,
        coalesce(sentiment_days.negative_count, 0) as negative_count,
        coalesce(sentiment_days.positive_reach, 0) as positive_reach,
        coalesce(sentiment_days.negative_reach, 0) as negative_reach,
        cast(sentiment_days.positive_count - sentiment_days.negative_count as double precision)
            / nullif(sentiment_days.positive_count + sentiment_days.negative_count, 0) as net_sentiment,
        cast(coalesce(sentiment_days.positive_reach, 0) - coalesce(sentiment_days.negative_reach, 0) as double precision)
            / nullif(coalesce(sentiment_days.positive_reach, 0) + coalesce(sentiment_days.negative_reach, 0), 0)
            as reach_weighted_net_sentiment
    from conversation_days
    full outer join sentiment_days
        on conversation_days.brand = sentiment_days.brand
        and conversation_days.activity_date = sentiment_days.activity_date
)

select * from final
