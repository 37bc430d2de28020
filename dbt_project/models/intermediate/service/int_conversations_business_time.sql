{#
    Business-hours duration of each conversation's wait for a first response: from the first customer
    post to the first brand reply, or to the data's as-of time while it is still unanswered.
#}
with conversations as (
    select * from {{ ref('int_conversations_aggregated') }}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

spans as (
    select
        conversations.conversation_id,
        conversations.first_inbound_at,
        coalesce(conversations.first_response_at, conversations.as_of_at) as wait_ended_at,
        brands.timezone_name,
        brands.business_open_hour,
        brands.business_close_hour,
        brands.business_days,
        brands.holidays,
        brands.business_periods,
    from conversations
    inner join brands
        on conversations.brand = brands.brand
),

business as (
    {{ business_seconds('spans', 'conversation_id', 'first_inbound_at', 'wait_ended_at') }}
),

final as (
    select
        span_key as conversation_id,
        business_seconds as wait_business_seconds,
    from business
)

select * from final
