{#
    How far each conversation carried: its author's audience, the engagement it gathered, who shared it, how
    much of that happened before the brand's first reply, and whether it became a wildfire. One row per
    conversation. Definitions and their reasons: _audience__models.yml and DECISIONLOG.md.
#}
with conversations as (
    select * from {{ ref('fct_conversations') }}
),

customer_posts as (
    select source, post_id, conversation_id, like_count, repost_count
    from {{ ref('fct_posts') }}
    where is_inbound
),

authors as (
    select * from {{ ref('stg_raw__authors') }}
),

metrics as (
    select metrics.*, customer_posts.conversation_id
    from {{ ref('stg_raw__post_metrics') }} as metrics
    inner join customer_posts
        on metrics.source = customer_posts.source
        and metrics.post_id = customer_posts.post_id
),

shares as (
    select shares.*, customer_posts.conversation_id
    from {{ ref('stg_raw__post_shares') }} as shares
    inner join customer_posts
        on shares.source = customer_posts.source
        and shares.post_id = customer_posts.post_id
),

-- each customer post's engagement now: its newest observation, or the counts on the post when never observed
post_engagement as (
    select
        customer_posts.conversation_id,
        {{ arg_max('metrics.engagement_count', 'metrics.observed_at') }} as observed_engagement,
        coalesce(
            {{ arg_max('metrics.engagement_count', 'metrics.observed_at') }},
            {{ any_value('coalesce(customer_posts.like_count, 0) + coalesce(customer_posts.repost_count, 0)') }}
        ) as engagement_count
    from customer_posts
    left join metrics
        on customer_posts.source = metrics.source
        and customer_posts.post_id = metrics.post_id
    group by customer_posts.source, customer_posts.post_id, customer_posts.conversation_id
),

engagement as (
    select
        conversation_id,
        sum(engagement_count) as engagement_count,
        sum(observed_engagement) as observed_engagement
    from post_engagement
    group by conversation_id
),

-- while unanswered: each post's newest observation before the first brand reply (every observation when none)
unanswered_posts as (
    select
        metrics.conversation_id,
        {{ arg_max('metrics.engagement_count', 'metrics.observed_at') }} as engagement_count,
        max(metrics.observed_at) as observed_at
    from metrics
    inner join conversations
        on metrics.conversation_id = conversations.conversation_id
    where conversations.first_response_at is null or metrics.observed_at < conversations.first_response_at
    group by metrics.conversation_id, metrics.source, metrics.post_id
),

unanswered as (
    select conversation_id, sum(engagement_count) as engagement_count, max(observed_at) as observed_at
    from unanswered_posts
    group by conversation_id
),

-- sharers: each person once per conversation, their audience where their network described them
sharers as (
    select
        shares.conversation_id,
        shares.sharer_author_id,
        min(shares.shared_at) as first_shared_at,
        {{ any_value('authors.followers_count') }} as followers_count
    from shares
    left join authors
        on shares.source = authors.source
        and shares.sharer_author_id = authors.author_id
    group by shares.conversation_id, shares.sharer_author_id
),

reach as (
    select
        sharers.conversation_id,
        count(*) as known_sharer_count,
        coalesce(sum(sharers.followers_count), 0) as sharer_followers,
        coalesce(sum(sharers.followers_count) filter (
            where conversations.first_response_at is null or sharers.first_shared_at < conversations.first_response_at
        ), 0) as sharer_followers_unanswered
    from sharers
    inner join conversations
        on sharers.conversation_id = conversations.conversation_id
    group by sharers.conversation_id
),

measured as (
    select
        conversations.conversation_id,
        conversations.brand,
        conversations.source,
        conversations.customer_id,
        conversations.customer_author_id,
        conversations.first_inbound_at,
        conversations.first_inbound_date,
        conversations.first_response_at,
        conversations.is_responded,
        conversations.is_negative_start,
        conversations.first_customer_sentiment,
        conversations.primary_category,
        authors.followers_count as author_followers,
        coalesce(engagement.engagement_count, 0) as engagement_count,
        coalesce(reach.known_sharer_count, 0) as known_sharer_count,
        coalesce(authors.followers_count, 0) + coalesce(reach.sharer_followers, 0) as potential_reach,
        coalesce(authors.followers_count, 0) + coalesce(reach.sharer_followers_unanswered, 0) as reach_while_unanswered,
        -- before and after the first reply, from observations: unknown (null) when none was made before it; a
        -- post never observed has no known timing and is in neither (it is in engagement_count)
        case when conversations.is_responded then unanswered.engagement_count end as engagement_before_reply,
        case
            when conversations.is_responded and unanswered.engagement_count is not null
                then engagement.observed_engagement - unanswered.engagement_count
        end as engagement_after_reply,
        coalesce(unanswered.engagement_count, 0) as engagement_while_unanswered,
        -- growth while unanswered: engagement an hour, over at least one hour (a first observation minutes
        -- after the post is not extrapolated into a wildfire)
        unanswered.engagement_count / greatest(
            {{ dbt.datediff('conversations.first_inbound_at', 'unanswered.observed_at', 'second') }} / 3600.0, 1.0
        ) as engagement_per_hour_unanswered
    from conversations
    left join authors
        on conversations.source = authors.source
        and conversations.customer_author_id = authors.author_id
    left join engagement
        on conversations.conversation_id = engagement.conversation_id
    left join unanswered
        on conversations.conversation_id = unanswered.conversation_id
    left join reach
        on conversations.conversation_id = reach.conversation_id
),

-- the brand's recent norm for each day it had a conversation: the median growth of its complaints opened in the
-- 28 days before that day. The day itself is left out, so a storm of complaints this morning does not raise the
-- bar it is judged against this afternoon; and one norm a day is a join of each day to four weeks of complaints,
-- which any engine runs (a frame per conversation was a median over every row's own frame: 5 minutes at 1M posts
-- on PostgreSQL, which has no ordered-set aggregate over a window)
days as (
    select distinct brand, first_inbound_date from measured
),

norms as (
    select
        days.brand,
        days.first_inbound_date,
        {{ median('complaints.engagement_per_hour_unanswered') }} as brand_norm_engagement_per_hour
    from days
    inner join measured as complaints
        on days.brand = complaints.brand
        and complaints.first_inbound_date >= days.first_inbound_date - 28
        and complaints.first_inbound_date < days.first_inbound_date
    where complaints.is_negative_start and complaints.engagement_per_hour_unanswered is not null
    group by days.brand, days.first_inbound_date
),

normed as (
    select measured.*, norms.brand_norm_engagement_per_hour
    from measured
    left join norms
        on measured.brand = norms.brand
        and measured.first_inbound_date = norms.first_inbound_date
),

final as (
    select
        *,
        coalesce(
            is_negative_start and (
                engagement_while_unanswered >= {{ number_var('wildfire_min_engagement') }}
                or reach_while_unanswered >= {{ number_var('wildfire_min_reach') }}
                or (
                    engagement_while_unanswered >= {{ number_var('wildfire_min_growth_engagement') }}
                    and engagement_per_hour_unanswered
                        > {{ number_var('wildfire_growth_factor') }} * brand_norm_engagement_per_hour
                )
            ),
            false
        ) as is_wildfire
    from normed
)

select * from final
