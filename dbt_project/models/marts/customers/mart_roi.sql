{#
    What answering on social is worth to a brand, per month (UTC month of the conversation's first post):
    contacts deflected from the call centre and their cost, and the revenue of customers whose complaint
    was recovered or who were answered, in the revenue window after the conversation.
#}
with conversations as (
    select * from {{ ref('fct_conversations') }}
),

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

after_conversation as (
    select
        conversations.conversation_id,
        sum(orders.amount) as revenue_after,
    from conversations
    inner join orders
        on conversations.customer_id = orders.customer_id
        and conversations.brand = orders.brand
        and orders.ordered_at > conversations.first_inbound_at
        and orders.ordered_at <= conversations.first_inbound_at + to_days({{ var('revenue_window_days') }})
    group by conversations.conversation_id
),

monthly as (
    select
        conversations.brand,
        date_trunc('month', conversations.first_inbound_at)::date as activity_month,
        count(*) filter (where conversations.is_actionable and conversations.is_responded) as answered_contacts,
        count(*) filter (where conversations.is_recovered) as recovered_conversations,
        count(distinct conversations.customer_id) filter (where conversations.is_recovered) as recovered_customers,
        coalesce(sum(after_conversation.revenue_after) filter (where conversations.is_recovered), 0)
            as revenue_after_recovery,
        count(distinct conversations.customer_id) filter (
            where conversations.is_responded and after_conversation.revenue_after > 0
        ) as answered_customers_retained,
        coalesce(sum(after_conversation.revenue_after) filter (where conversations.is_responded), 0)
            as revenue_after_answer,
    from conversations
    left join after_conversation
        on conversations.conversation_id = after_conversation.conversation_id
    group by all
),

final as (
    select
        brand,
        activity_month,
        answered_contacts,
        answered_contacts * {{ var('deflection_rate') }} as deflected_contacts,
        answered_contacts * {{ var('deflection_rate') }} * {{ var('cost_per_call') }} as call_cost_avoided,
        recovered_conversations,
        recovered_customers,
        revenue_after_recovery,
        answered_customers_retained,
        revenue_after_answer,
    from monthly
)

select * from final
