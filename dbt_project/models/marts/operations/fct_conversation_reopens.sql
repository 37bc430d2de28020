{#
    Reopens and one-touch resolution, one row per conversation. A customer reopens a conversation when they post
    again after it was resolved, or after resolution_silence_hours without a word since the brand's last reply:
    each such return (the first customer post after a brand reply) counts once.

    Incremental per conversation, by fct_conversations' rule (macros/incremental_changes.sql): the conversations a
    change touches and all opened within lookback_days (their resolution still moves with time); the post-hook
    deletes the rows of conversations that are gone. Everything a row reads is its own conversation's: its posts,
    its resolution and the reply that answered its first reopening post (6.2 s every run at 5M posts, rebuilt whole).
#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_conversations_gone() }}"
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}, {{ ref('int_as_of') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

affected as (
    {{ affected_conversations('changes') }}
    union
    select conversation_id from {{ ref('fct_conversations') }}
    where {{ still_moving('first_inbound_at') }}
),

{% endif %}
posts as (
    select * from {{ ref('fct_posts') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
    {% endif %}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
    {% endif %}
),

replies as (
    select * from {{ ref('fct_replies') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
    {% endif %}
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
      and created_at > previous_reply_at + {{ number_var('resolution_silence_hours') }} * interval '1 hour'
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
        -- the conversation's day, as the daily marts count it; also the day publish and validation compare the mart
        -- by (its first date column: first_reopened_at, blank for most conversations, left every row in one "day")
        conversations.first_inbound_at,
        coalesce(first_reopens.reopen_count, 0) as reopen_count,
        first_reopens.first_reopened_at,
        replies.response_seconds as first_response_after_reopen_seconds,
        conversations.is_resolved
            and conversations.brand_reply_count = 1
            and coalesce(first_reopens.reopen_count, 0) = 0 as is_one_touch_resolution,
        conversations.changed_at
    from conversations
    left join first_reopens
        on conversations.conversation_id = first_reopens.conversation_id
    left join replies
        on replies.conversation_id = first_reopens.conversation_id
        and replies.answers_post_id = first_reopens.first_reopen_post_id
)

select * from final
