with conversations as (
    select * from {{ ref('int_conversations_aggregated') }}
),

business_time as (
    select * from {{ ref('int_conversations_business_time') }}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

customers as (
    select * from {{ ref('stg_raw__customers') }}
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
        epoch(conversations.first_response_at) - epoch(conversations.first_inbound_at) as first_response_seconds,
        case when conversations.is_responded then business_time.wait_business_seconds end
            as first_response_business_seconds,
        conversations.is_responded,
        conversations.post_count,
        conversations.customer_post_count,
        conversations.brand_reply_count,
        conversations.customer_turn_count,
        conversations.mean_next_reply_seconds,
        conversations.first_customer_sentiment,
        conversations.last_customer_sentiment,
        conversations.is_negative_start,
        conversations.is_recovered,
        conversations.resolved_at,
        conversations.resolved_at is not null as is_resolved,
        epoch(conversations.resolved_at) - epoch(conversations.first_inbound_at) as resolution_seconds,
        conversations.categories,
        coalesce(conversations.primary_category, 'uncategorised') as primary_category,
        conversations.intent,
        conversations.intent in ('complaint', 'question', 'request') as is_actionable,
        conversations.urgency,
        conversations.has_churn_threat,
        conversations.has_legal_safety,
        conversations.has_public_shaming,
        conversations.agent,
        conversations.is_english,
        brands.sla_minutes as sla_target_minutes,
        coalesce(business_time.wait_business_seconds > brands.sla_minutes * 60, false) as is_sla_breached,
        conversations.last_post_at,
        conversations.as_of_at,
    from conversations
    inner join brands
        on conversations.brand = brands.brand
    left join business_time
        on conversations.conversation_id = business_time.conversation_id
    left join customers
        on lower(conversations.customer_handle) = lower(customers.social_handle)
)

select * from final
