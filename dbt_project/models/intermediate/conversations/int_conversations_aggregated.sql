{#
    Incremental by the rule fct_conversations uses: only the conversations a change touches are aggregated
    again (macros/incremental_changes.sql), and any conversation whose posts in int_posts_threaded no longer
    match what was aggregated (their count or newest change: a post erased by `socialcx forget`, or moved to
    another conversation): between sweeps, the conversations int_posts_threaded noted it rewrote
    (noted_conversations), else found by comparing every conversation's posts with what was built. Nothing here
    depends on "now" (int_as_of is joined downstream), so a conversation nothing touched is exactly what a full
    refresh would write. A conversation gone from int_posts_threaded leaves in the post-hook, which looks among the
    conversations int_posts_threaded noted, or every row in a sweep (only_rewritten_conversations: every row on
    every build was 0.65 s of a 0.1% build at 5M posts).
#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} as built where {{ only_rewritten_conversations('built.conversation_id') }} not exists (select 1 from {{ ref('int_posts_threaded') }} as posts where posts.conversation_id = built.conversation_id)"
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

{%- set noted = noted_conversations() %}
affected as (
    {{ affected_conversations('changes') }}
    union
    {% if noted %}
    -- the conversations int_posts_threaded rewrote since this model last succeeded: every conversation whose posts
    -- changed there (comparing every conversation's posts with what was built took 0.7 s at 5M posts)
    {{ noted }}
    {% else %}
    select threaded.conversation_id
    from (
        select conversation_id, count(*) as post_count, max(changed_at) as changed_at
        from {{ ref('int_posts_threaded') }}
        group by conversation_id
    ) as threaded
    left join {{ this }} as built
        on threaded.conversation_id = built.conversation_id
    where built.conversation_id is null
        or threaded.post_count <> built.post_count
        or threaded.changed_at is distinct from built.changed_at
    {% endif %}
    {% if var('backfill_start') %}
    union
    -- a backfill rebuilds every conversation with a post in its date range
    select conversation_id from {{ ref('int_posts_threaded') }}
    where {{ backfill_between('created_at') }}
    {% endif %}
),

{% endif %}
posts as (
    select * from {{ ref('int_posts_threaded') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
    {% endif %}
),

ordered as (
    select
        *,
        lag(is_inbound) over conversation_order as previous_is_inbound,
        min(created_at) filter (where is_inbound) over (partition by conversation_id) as first_inbound_at,
        min(case when not is_inbound then created_at end) over (
            partition by conversation_id order by created_at, post_id
            rows between 1 following and unbounded following
        ) as next_brand_post_at,
        case when not is_inbound
            then {{ agent_signature('text_redacted') }}
        end as agent_signature,
        case urgency when 'high' then 3 when 'medium' then 2 when 'low' then 1 end as urgency_rank,
        case when not is_inbound then {{ is_handoff('text_redacted') }} end as is_handoff,
        case when is_inbound then {{ is_confirmation('text_redacted') }} end as is_confirmation
    from posts
    window conversation_order as (partition by conversation_id order by created_at, post_id)
),

replied as (
    -- the first brand reply, on every post of the conversation: what the customer said after it decides the outcome
    select
        *,
        min(case when not is_inbound and created_at >= first_inbound_at then created_at end)
            over (partition by conversation_id) as first_reply_at
    from ordered
),

conversations as (
    select
        conversation_id,
        {{ any_value('source') }} as source,
        {{ arg_min('post_id', 'created_at', 'post_id', where='is_root') }} as root_post_id,
        {{ arg_min('author_id', 'created_at', 'post_id', where='is_inbound') }} as customer_author_id,
        {{ arg_min('author_handle', 'created_at', 'post_id', where='is_inbound') }} as customer_handle,
        {{ arg_min('author_id', 'created_at', 'post_id', where='not is_inbound and created_at >= first_inbound_at') }}
            as first_responding_brand,
        {{ arg_min('brand', 'created_at', 'post_id', where='is_root') }} as addressed_brand,
        min(created_at) filter (where is_inbound) as first_inbound_at,
        -- a brand post stamped before the customer's first post (clock skew, re-used ids) answers nothing
        min(created_at) filter (where not is_inbound and created_at >= first_inbound_at) as first_response_at,
        max(created_at) filter (where is_inbound) as last_customer_at,
        max(created_at) as last_post_at,
        max(changed_at) as changed_at,
        {{ arg_max('not is_inbound', 'created_at', 'post_id') }} as is_last_post_by_brand,
        count(*) as post_count,
        count(*) filter (where is_inbound) as customer_post_count,
        count(*) filter (where not is_inbound) as brand_reply_count,
        count(*) filter (where is_inbound and coalesce(previous_is_inbound, false) = false) as customer_turn_count,
        avg({{ epoch('next_brand_post_at') }} - {{ epoch('created_at') }}) filter (
            where is_inbound and coalesce(previous_is_inbound, false) = false and next_brand_post_at is not null
        ) as mean_next_reply_seconds,
        {{ arg_min('sentiment_label', 'created_at', 'post_id', where='is_inbound and sentiment_label is not null') }}
            as first_customer_sentiment,
        {{ arg_max('sentiment_label', 'created_at', 'post_id', where='is_inbound and sentiment_label is not null') }}
            as last_customer_sentiment,
        count(*) filter (where is_inbound and sentiment_label is not null) as scored_customer_post_count,
        -- every category of the customer's posts, once, sorted ([] when their posts have none; null unenriched)
        bool_or(is_inbound and categories is not null) as has_customer_categories,
        {{ arg_min('primary_category', 'created_at', 'post_id', where='is_inbound and primary_category is not null') }}
            as primary_category,
        {{ arg_min('intent', 'created_at', 'post_id', where='is_inbound and intent is not null') }} as intent,
        max(urgency_rank) filter (where is_inbound) as urgency_rank,
        bool_or(is_churn_threat) filter (where is_inbound) as has_churn_threat,
        bool_or(is_legal_safety) filter (where is_inbound) as has_legal_safety,
        bool_or(is_public_shaming) filter (where is_inbound) as has_public_shaming,
        {{ arg_min('agent_signature', 'created_at', 'post_id', where="agent_signature <> ''") }} as agent,
        bool_and(is_english) filter (where is_inbound) as is_english,
        {{ arg_min('lang', 'created_at', 'post_id', where='is_inbound and lang is not null') }} as language,
        -- after the first brand reply: the customer's last word, and the brand's last public reply
        {{ arg_max('sentiment_label', 'created_at', 'post_id', where='is_inbound and created_at > first_reply_at') }}
            as after_reply_sentiment,
        {{ arg_max('intent', 'created_at', 'post_id', where='is_inbound and created_at > first_reply_at') }} as after_reply_intent,
        {{ arg_max('is_confirmation', 'created_at', 'post_id', where='is_inbound and created_at > first_reply_at') }}
            as after_reply_is_confirmation,
        max(created_at) filter (where is_inbound and created_at > first_reply_at) as after_reply_last_customer_at,
        {{ arg_max('is_handoff', 'created_at', 'post_id', where='not is_inbound and created_at >= first_inbound_at') }}
            as last_reply_is_handoff,
        bool_or(is_handoff) filter (where not is_inbound and created_at >= first_inbound_at) as has_handoff
    from replied
    group by conversation_id
),

customer_categories as (
    select conversation_id, {{ list_agg('category', order_by='category') }} as categories
    from (
        select distinct replied.conversation_id, category.category
        from replied
        cross join unnest(replied.categories) as category(category)
        where replied.is_inbound and category.category is not null
    ) as distinct_categories
    group by conversation_id
),

final as (
    select
        conversations.conversation_id,
        conversations.source,
        conversations.root_post_id,
        conversations.customer_author_id,
        conversations.customer_handle,
        conversations.first_inbound_at,
        conversations.first_response_at,
        conversations.last_customer_at,
        conversations.last_post_at,
        conversations.changed_at,
        conversations.is_last_post_by_brand,
        conversations.post_count,
        conversations.customer_post_count,
        conversations.brand_reply_count,
        conversations.customer_turn_count,
        conversations.mean_next_reply_seconds,
        conversations.first_customer_sentiment,
        conversations.last_customer_sentiment,
        conversations.scored_customer_post_count,
        case when conversations.has_customer_categories
            then coalesce(customer_categories.categories, {{ empty_list('varchar') }}) end as categories,
        conversations.primary_category,
        conversations.has_churn_threat,
        conversations.has_legal_safety,
        conversations.has_public_shaming,
        conversations.agent,
        conversations.is_english,
        conversations.language,
        conversations.after_reply_sentiment,
        conversations.after_reply_intent,
        conversations.after_reply_is_confirmation,
        conversations.after_reply_last_customer_at,
        conversations.last_reply_is_handoff,
        conversations.has_handoff,
        -- never NULL for a customer's conversation: a language the rules do not read is intent unknown
        coalesce(intent, case when customer_post_count > 0 then 'unknown' end) as intent,
        coalesce(first_responding_brand, addressed_brand) as brand,
        first_response_at is not null as is_responded,
        case urgency_rank when 3 then 'high' when 2 then 'medium' when 1 then 'low' end as urgency,
        first_customer_sentiment = 'negative' as is_negative_start,
        -- recovered: the customer started negative and ended positive; neutralized: started negative, ended neutral
        coalesce(
            first_customer_sentiment = 'negative' and last_customer_sentiment = 'positive'
            and scored_customer_post_count >= 2,
            false
        ) as is_recovered,
        coalesce(
            first_customer_sentiment = 'negative' and last_customer_sentiment = 'neutral'
            and scored_customer_post_count >= 2,
            false
        ) as is_neutralized,
        -- what happened, as a care lead reads it (DECISIONLOG.md, "Outcome"); the first match wins
        case
            when coalesce(intent, 'unknown') not in ('complaint', 'question', 'request', 'unknown') then 'not_actionable'
            when first_response_at is null then 'unanswered'
            when after_reply_sentiment = 'negative' or after_reply_intent = 'complaint' then 'unresolved'
            when after_reply_sentiment = 'positive' or after_reply_is_confirmation then 'resolved'
            when last_reply_is_handoff then 'moved_to_private'
            else 'answered_no_confirmation'
        end as outcome,
        case
            when first_response_at is not null and after_reply_sentiment is distinct from 'negative'
                and after_reply_intent is distinct from 'complaint'
                and (after_reply_sentiment = 'positive' or after_reply_is_confirmation)
                then after_reply_last_customer_at
        end as resolved_at
    from conversations
    left join customer_categories
        on conversations.conversation_id = customer_categories.conversation_id
)

select * from final
