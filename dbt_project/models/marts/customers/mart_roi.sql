{#
    What answering on social is worth to a brand, per month (UTC month of the conversation's first post):
    contacts deflected from the call centre and their cost, and the revenue of customers whose complaint
    was recovered or who were answered, in the revenue window after the conversation.

    Each order counts at most once per measure: it goes to the customer's most recent earlier qualifying
    conversation with that brand whose window holds it (two conversations a week apart no longer both claim
    the same order). "Answered" means the same conversations in answered_contacts and revenue_after_answer:
    actionable and answered. Every assumption is a column, labelled assumed_*, from a documented dbt var.
#}
with conversations as (
    select * from {{ ref('fct_conversations') }}
),

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

answered as (
    select conversation_id, customer_id, brand, first_inbound_at
    from conversations
    where is_actionable and is_responded and customer_id is not null
),

recovered as (
    select conversation_id, customer_id, brand, first_inbound_at
    from conversations
    where is_recovered and customer_id is not null
),

{% for measure, qualifying in [('answer', 'answered'), ('recovery', 'recovered')] %}
{{ measure }}_attribution as (
    -- each order to the latest qualifying conversation before it whose window holds it
    select
        orders.order_id,
        {{ any_value('orders.amount') }} as amount,
        {{ arg_max(qualifying ~ '.conversation_id', qualifying ~ '.first_inbound_at', qualifying ~ '.conversation_id') }} as conversation_id
    from orders
    inner join {{ qualifying }}
        on orders.customer_id = {{ qualifying }}.customer_id
        and orders.brand = {{ qualifying }}.brand
        and orders.ordered_at > {{ qualifying }}.first_inbound_at
        and orders.ordered_at <= {{ qualifying }}.first_inbound_at + {{ var('revenue_window_days') }} * interval '1 day'
    group by orders.order_id
),

revenue_after_{{ measure }} as (
    select conversation_id, sum(amount) as revenue from {{ measure }}_attribution group by conversation_id
),

{% endfor %}
monthly as (
    select
        conversations.brand,
        date_trunc('month', conversations.first_inbound_at)::date as activity_month,
        count(*) filter (where conversations.is_actionable and conversations.is_responded) as answered_contacts,
        count(*) filter (where conversations.is_recovered) as recovered_conversations,
        count(distinct conversations.customer_id) filter (where conversations.is_recovered) as recovered_customers,
        coalesce(sum(revenue_after_recovery.revenue), 0) as revenue_after_recovery,
        count(distinct conversations.customer_id) filter (where revenue_after_answer.revenue > 0)
            as answered_customers_retained,
        coalesce(sum(revenue_after_answer.revenue), 0) as revenue_after_answer
    from conversations
    left join revenue_after_answer
        on conversations.conversation_id = revenue_after_answer.conversation_id
    left join revenue_after_recovery
        on conversations.conversation_id = revenue_after_recovery.conversation_id
    group by 1, 2
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
        -- the assumptions behind the figures above, on every row (dbt vars; see dbt_project.yml)
        {{ var('deflection_rate') }}::double precision as assumed_deflection_rate,
        {{ var('cost_per_call') }}::double precision as assumed_cost_per_call,
        {{ var('revenue_window_days') }}::integer as assumed_revenue_window_days
    from monthly
)

select * from final
