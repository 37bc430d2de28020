{#
    What to answer next: the open actionable conversations as of the marts' "now" (int_as_of), waiting on the
    brand (the customer posted last, within backlog_max_age_days), most urgent first, then the widest reach; the
    team is the one the escalation policies route the conversation to.
#}
{# no nested loops on PostgreSQL: the same join back to a business-time aggregate as int_conversations_business_time,
   where PostgreSQL guessed 200 groups and looped over every pair (over 26 minutes at 1M posts; a hash join 44 s) #}
{{ config(pre_hook=without_nested_loops()) }}

with conversations as (
    select * from {{ ref('fct_conversations') }}
),

aggregated as (
    select conversation_id, customer_handle, is_last_post_by_brand, last_customer_at
    from {{ ref('int_conversations_aggregated') }}
),

as_of as (
    select as_of_at from {{ ref('int_as_of') }}
),

-- the conversations waiting on the brand; their replies and customer posts are read below, not every
-- conversation's: grouping every reply and holding every customer post took most of this model's 1.1 s at 5M posts
open_conversations as (
    select
        conversations.*,
        aggregated.last_customer_at
    from conversations
    inner join aggregated
        on conversations.conversation_id = aggregated.conversation_id
    cross join as_of
    where conversations.is_actionable
      and not aggregated.is_last_post_by_brand
      -- a customer's "thanks, sorted" is the last word, not a wait: resolved, unless they came back after it
      and not (conversations.is_resolved and aggregated.last_customer_at <= conversations.resolved_at)
      and aggregated.last_customer_at > as_of.as_of_at - {{ number_var('backlog_max_age_days') }} * interval '1 day'
),

replies as (
    select conversation_id, max(replied_at) as last_reply_at
    from {{ ref('fct_replies') }}
    where conversation_id in (select conversation_id from open_conversations)
    group by conversation_id
),

posts as (
    select conversation_id, post_id, created_at, text_redacted
    from {{ ref('fct_posts') }}
    where is_inbound and conversation_id in (select conversation_id from open_conversations)
),

-- the wait started with the first customer post after the brand's last reply (or the first post); a join, not a
-- subquery per conversation (PostgreSQL ran that as a scan of every customer post for each open conversation)
waiting as (
    select open_conversations.conversation_id, min(posts.created_at) as waiting_since
    from open_conversations
    left join replies
        on open_conversations.conversation_id = replies.conversation_id
    inner join posts
        on open_conversations.conversation_id = posts.conversation_id
        and (replies.last_reply_at is null or posts.created_at > replies.last_reply_at)
    group by open_conversations.conversation_id
),

spans as (
    select
        open_conversations.conversation_id,
        waiting.waiting_since,
        as_of.as_of_at,
        brands.timezone_name,
        brands.business_open_hour,
        brands.business_close_hour,
        brands.business_days,
        brands.holidays,
        brands.brand,
        cast(null as varchar) as hours_team
    from open_conversations
    left join waiting
        on open_conversations.conversation_id = waiting.conversation_id
    cross join as_of
    inner join {{ ref('int_brands_resolved') }} as brands
        on open_conversations.brand = brands.brand
),

business as (
    {{ business_seconds('spans', 'conversation_id', 'waiting_since', 'as_of_at') }}
),

last_posts as (
    select posts.conversation_id, {{ arg_max('posts.text_redacted', 'posts.created_at', tiebreak='posts.post_id') }}
        as last_customer_post
    from posts  -- the open conversations' posts only
    group by posts.conversation_id
),

final as (
    select
        open_conversations.conversation_id,
        open_conversations.brand,
        coalesce(escalations.team, 'unrouted') as team,
        open_conversations.primary_category,
        open_conversations.urgency,
        coalesce(amplification.reach_while_unanswered, 0) as reach,
        row_number() over (
            partition by open_conversations.brand
            order by case open_conversations.urgency when 'high' then 1 when 'medium' then 2 else 3 end,
                     coalesce(amplification.reach_while_unanswered, 0) desc, waiting.waiting_since,
                     -- ties in a fixed order: the same queue on every run
                     open_conversations.conversation_id
        ) as priority,
        waiting.waiting_since,
        replies.last_reply_at is not null as is_follow_up,
        coalesce(business.business_seconds, 0) / 60.0 as waiting_business_minutes,
        open_conversations.sla_target_minutes - coalesce(business.business_seconds, 0) / 60.0 as minutes_left_to_sla,
        last_posts.last_customer_post
    from open_conversations
    left join replies
        on open_conversations.conversation_id = replies.conversation_id
    left join waiting
        on open_conversations.conversation_id = waiting.conversation_id
    left join business
        on open_conversations.conversation_id = business.span_key
    left join {{ ref('mart_amplification') }} as amplification
        on open_conversations.conversation_id = amplification.conversation_id
    left join last_posts
        on open_conversations.conversation_id = last_posts.conversation_id
    left join {{ ref('fct_escalations') }} as escalations
        on open_conversations.conversation_id = escalations.conversation_id
)

select * from final
