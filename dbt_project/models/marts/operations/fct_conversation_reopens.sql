{#
    Reopens and one-touch resolution, one row per conversation. A customer reopens a conversation when they post
    again after it was resolved, or after resolution_silence_hours without a word since the brand's last reply:
    each such return (the first customer post after a brand reply) counts once.
#}
with posts as (
    select * from {{ ref('fct_posts') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
),

replies as (
    select * from {{ ref('fct_replies') }}
),

ordered as (
    select
        posts.conversation_id,
        posts.post_id,
        posts.created_at,
        posts.is_inbound,
        lag(posts.is_inbound) over by_time as previous_is_inbound,
        max(case when not posts.is_inbound then posts.created_at end) over (
            partition by posts.conversation_id order by posts.created_at, posts.post_id
            rows between unbounded preceding and 1 preceding
        ) as previous_reply_at
    from posts
    window by_time as (partition by posts.conversation_id order by posts.created_at, posts.post_id)
),

reopens as (
    -- a return long after the brand's reply
    select conversation_id, post_id, created_at
    from ordered
    where is_inbound
      and previous_is_inbound = false
      and created_at > previous_reply_at + {{ var('resolution_silence_hours') }} * interval '1 hour'
    union
    -- the first customer post after the resolution (whoever posted last before it)
    select ordered.conversation_id, {{ arg_min('ordered.post_id', 'ordered.created_at') }}, min(ordered.created_at)
    from ordered
    inner join conversations
        on ordered.conversation_id = conversations.conversation_id
    where ordered.is_inbound
      and ordered.created_at > conversations.resolved_at
    group by ordered.conversation_id
),

first_reopens as (
    select conversation_id, count(*) as reopen_count, {{ arg_min('post_id', 'created_at') }} as first_reopen_post_id,
           min(created_at) as first_reopened_at
    from reopens
    group by conversation_id
),

final as (
    select
        conversations.conversation_id,
        conversations.brand,
        coalesce(first_reopens.reopen_count, 0) as reopen_count,
        first_reopens.first_reopened_at,
        replies.response_seconds as first_response_after_reopen_seconds,
        conversations.is_resolved
            and conversations.brand_reply_count = 1
            and coalesce(first_reopens.reopen_count, 0) = 0 as is_one_touch_resolution
    from conversations
    left join first_reopens
        on conversations.conversation_id = first_reopens.conversation_id
    left join replies
        on replies.conversation_id = first_reopens.conversation_id
        and replies.answers_post_id = first_reopens.first_reopen_post_id
)

select * from final
