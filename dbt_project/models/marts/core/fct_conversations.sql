{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where conversation_id not in (select conversation_id from {{ ref('int_conversations_aggregated') }})"
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}, {{ ref('stg_raw__customers') }}, {{ ref('int_as_of') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

affected as (
    {{ affected_conversations('changes') }}
),

{% endif %}
conversations as (
    select * from {{ ref('int_conversations_aggregated') }}
    {% if is_incremental() %}
    -- conversations a change touches (macros/incremental_changes.sql), and all opened within the lookback
    -- window (their resolution and SLA still move with time); older ones are settled
    where conversation_id in (select conversation_id from affected)
        -- a CRM customer added or changed since: the conversations of their handle gain (or change) their
        -- customer_id, and those built under their old handle lose it
        or lower(customer_handle) in (
            select lower(social_handle) from {{ ref('stg_raw__customers') }} where updated_at > {{ change_mark() }}
        )
        or conversation_id in (
            select conversation_id from {{ this }} where customer_id in ({{ changed_customers() }})
        )
        -- unanswered, and its wait was measured again (int_conversations_business_time: the as-of time moved
        -- before it was abandoned, or back)
        or conversation_id in (
            select built.conversation_id
            from {{ this }} as built
            inner join {{ ref('int_conversations_business_time') }} as business_time
                on built.conversation_id = business_time.conversation_id
            where not built.is_responded
                and built.open_wait_business_seconds is distinct from business_time.wait_business_seconds
        )
        -- and, in a backfill, every conversation opened in its date range, changed or not
        or {{ still_moving('first_inbound_at') }}
    {% endif %}
),

business_time as (
    select * from {{ ref('int_conversations_business_time') }}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

customers as (
    -- a handle links to one customer: when a CRM holds the same handle twice, the lowest customer_id wins
    select * from (
        select *, row_number() over (partition by lower(social_handle) order by customer_id) as handle_rank
        from {{ ref('stg_raw__customers') }}
        where social_handle is not null
    ) as ranked
    where handle_rank = 1
),

changed as (
    select conversation_id, max(changed_at) as changed_at
    from {{ ref('int_posts_threaded') }}
    {% if is_incremental() %}
    -- of the conversations rebuilt: grouped whole, every post was hashed for the few a run rebuilds
    where conversation_id in (select conversation_id from conversations)
    {% endif %}
    group by conversation_id
),

waits as (
    -- the first-response wait, calendar and business, and its SLA verdict: each computed once, here
    select
        conversations.conversation_id,
        {{ epoch('conversations.first_response_at') }} - {{ epoch('conversations.first_inbound_at') }} as first_response_seconds,
        business_time.wait_business_seconds,
        coalesce(business_time.wait_business_seconds > brands.sla_minutes * 60, false) as is_sla_breached
    from conversations
    inner join brands
        on conversations.brand = brands.brand
    left join business_time
        on conversations.conversation_id = business_time.conversation_id
),

final as (
    select
        conversations.conversation_id,
        conversations.brand,
        conversations.source,
        customers.customer_id,
        conversations.customer_author_id,
        conversations.root_post_id,
        conversations.first_inbound_at,
        conversations.first_inbound_at::date as first_inbound_date,
        conversations.first_response_at,
        waits.first_response_seconds,
        case when conversations.is_responded then waits.wait_business_seconds end
            as first_response_business_seconds,
        conversations.is_responded,
        -- an unanswered conversation's wait so far, in business time (what its SLA is measured in)
        case when not conversations.is_responded then waits.wait_business_seconds end
            as open_wait_business_seconds,
        conversations.post_count,
        conversations.customer_post_count,
        conversations.brand_reply_count,
        conversations.customer_turn_count,
        conversations.mean_next_reply_seconds,
        conversations.first_customer_sentiment,
        conversations.last_customer_sentiment,
        conversations.is_negative_start,
        conversations.is_recovered,
        conversations.is_neutralized,
        conversations.outcome,
        conversations.outcome = 'resolved' as is_resolved,
        conversations.outcome = 'moved_to_private' as is_moved_to_private,
        conversations.has_handoff,
        conversations.resolved_at,
        {{ epoch('conversations.resolved_at') }} - {{ epoch('conversations.first_inbound_at') }} as resolution_seconds,
        conversations.categories,
        coalesce(conversations.primary_category, 'uncategorised') as primary_category,
        conversations.intent,
        conversations.outcome <> 'not_actionable' as is_actionable,
        conversations.urgency,
        conversations.has_churn_threat,
        conversations.has_legal_safety,
        conversations.has_public_shaming,
        conversations.agent,
        coalesce(conversations.is_english, true) as is_english,
        coalesce(conversations.language, 'en') as language,
        brands.sla_minutes as sla_target_minutes,
        brands.hours_source as business_hours_source,
        waits.is_sla_breached,
        case
            when not conversations.is_responded then 'unanswered'
            when waits.first_response_seconds < 3600 then 'under 1h'
            when waits.first_response_seconds < 4 * 3600 then '1h to 4h'
            when waits.first_response_seconds < 24 * 3600 then '4h to 24h'
            else 'over 24h'
        end as response_speed_bucket,
        case
            when not conversations.is_responded then 'ignored'
            when waits.is_sla_breached then 'answered slow'
            else 'answered fast'
        end as service_experience,
        case
            when not conversations.is_responded then -1
            when conversations.last_customer_sentiment = 'positive' then 1
            when conversations.last_customer_sentiment = 'negative' then -1
            else 0
        end as experience_score,
        conversations.last_post_at,
        changed.changed_at
    from conversations
    inner join brands
        on conversations.brand = brands.brand
    inner join waits
        on conversations.conversation_id = waits.conversation_id
    left join customers
        on lower(conversations.customer_handle) = lower(customers.social_handle)
    left join changed
        on conversations.conversation_id = changed.conversation_id
)

select * from final
