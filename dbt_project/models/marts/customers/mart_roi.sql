{#
    What answering on social is worth to a brand, per month (UTC month of the conversation's first post):
    contacts deflected from the call centre and their cost, and the revenue of customers whose complaint
    was recovered or who were answered, in the revenue window after the conversation.

    Each order counts at most once per measure: it goes to the customer's most recent earlier qualifying
    conversation with that brand whose window holds it (two conversations a week apart no longer both claim
    the same order). "Answered" means the same conversations in answered_contacts and revenue_after_answer:
    actionable and answered. Every assumption is a column, labelled assumed_*, from a documented dbt var.

    Incremental per affected brand and month: the months of the conversations changed since the last build (or
    opened within lookback_days, or of a customer whose CRM record changed), the months whose revenue window holds
    an order loaded or changed since or an order of a customer whose CRM record changed, and the months whose
    answered or recovered counts (conversations, customers) differ from what was built (a conversation erased; a
    renamed handle's old conversations, which no longer name the customer). Only their conversations are counted,
    and only the orders that can fall in their windows are attributed. The post-hook deletes months left without
    conversations.
#}
{{
    config(
        materialized='incremental',
        unique_key=['brand', 'activity_month'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} as built where not exists (select 1 from {{ ref('fct_conversations') }} as conversations where conversations.brand = built.brand and cast(date_trunc('month', conversations.first_inbound_date) as date) = built.activity_month)"
    )
}}

-- depends_on: {{ ref('stg_raw__customers') }}, {{ ref('int_as_of') }}

with
{% if is_incremental() %}
affected_months as (
    select distinct brand, activity_month
    from (
        -- conversations changed, still moving (lookback), or of a customer whose CRM record changed
        select brand, cast(date_trunc('month', first_inbound_date) as date) as activity_month
        from {{ ref('fct_conversations') }}
        where changed_at > {{ change_mark() }}
            or {{ within_lookback('first_inbound_at') }}
            or customer_id in ({{ changed_customers() }})
        union all
        -- an order loaded or changed: every month whose revenue window can hold it
        select changed_orders.brand, cast(changed_orders.first_month + offsets.months * interval '1 month' as date)
        from (
            select
                brand,
                ordered_at,
                date_trunc('month', ordered_at - {{ number_var('revenue_window_days') }} * interval '1 day') as first_month
            from {{ ref('stg_raw__orders') }}
            -- and every order of a customer whose CRM record changed: a changed handle moves conversations
            -- (their qualifying windows) between the customer and nobody
            where updated_at > {{ change_mark() }}
                or customer_id in ({{ changed_customers() }})
        ) as changed_orders
        cross join (select {{ int_series('0', ((number_var('revenue_window_days') | int) // 28) + 1) }} as months) as offsets
        where changed_orders.first_month + offsets.months * interval '1 month' <= changed_orders.ordered_at
        union all
        -- months whose answered or recovered conversations, or recovered customers, are not those counted (a
        -- conversation erased; a renamed handle's old conversations, which leave their customer)
        select coalesce(counted.brand, built.brand), coalesce(counted.activity_month, built.activity_month)
        from (
            select
                brand,
                cast(date_trunc('month', first_inbound_date) as date) as activity_month,
                count(*) filter (where is_actionable and is_responded) as answered_contacts,
                count(*) filter (where is_recovered) as recovered_conversations,
                count(distinct customer_id) filter (where is_recovered) as recovered_customers
            from {{ ref('fct_conversations') }}
            group by 1, 2
        ) as counted
        full outer join {{ this }} as built
            on counted.brand = built.brand
            and counted.activity_month = built.activity_month
        where counted.answered_contacts is distinct from built.answered_contacts
            or counted.recovered_conversations is distinct from built.recovered_conversations
            or counted.recovered_customers is distinct from built.recovered_customers
    ) as touched
),

reach as (
    -- per brand, the first affected month: orders from it on, and the conversations whose windows can hold them
    select brand, min(activity_month) as first_month
    from affected_months
    group by brand
),

{% endif %}
conversations as (
    select conversations.*
    from {{ ref('fct_conversations') }} as conversations
    {% if is_incremental() %}
    inner join reach
        on conversations.brand = reach.brand
        and conversations.first_inbound_at >= reach.first_month - {{ number_var('revenue_window_days') }} * interval '1 day'
    {% endif %}
),

orders as (
    select orders.*
    from {{ ref('stg_raw__orders') }} as orders
    {% if is_incremental() %}
    inner join reach
        on orders.brand = reach.brand
        and orders.ordered_at >= reach.first_month
    {% endif %}
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
        max(orders.updated_at) as changed_at,
        {{ arg_max(qualifying ~ '.conversation_id', qualifying ~ '.first_inbound_at', qualifying ~ '.conversation_id') }} as conversation_id
    from orders
    inner join {{ qualifying }}
        on orders.customer_id = {{ qualifying }}.customer_id
        and orders.brand = {{ qualifying }}.brand
        and orders.ordered_at > {{ qualifying }}.first_inbound_at
        and orders.ordered_at <= {{ qualifying }}.first_inbound_at + {{ number_var('revenue_window_days') }} * interval '1 day'
    group by orders.order_id
),

revenue_after_{{ measure }} as (
    select conversation_id, sum(amount) as revenue, max(changed_at) as changed_at
    from {{ measure }}_attribution
    group by conversation_id
),

{% endfor %}
monthly as (
    select
        conversations.brand,
        date_trunc('month', conversations.first_inbound_date)::date as activity_month,
        count(*) filter (where conversations.is_actionable and conversations.is_responded) as answered_contacts,
        count(*) filter (where conversations.is_recovered) as recovered_conversations,
        count(distinct conversations.customer_id) filter (where conversations.is_recovered) as recovered_customers,
        coalesce(sum(revenue_after_recovery.revenue), 0) as revenue_after_recovery,
        count(distinct conversations.customer_id) filter (where revenue_after_answer.revenue > 0)
            as answered_customers_retained,
        coalesce(sum(revenue_after_answer.revenue), 0) as revenue_after_answer,
        greatest(
            max(conversations.changed_at),
            coalesce(max(revenue_after_answer.changed_at), max(conversations.changed_at)),
            coalesce(max(revenue_after_recovery.changed_at), max(conversations.changed_at))
        ) as changed_at
    from conversations
    left join revenue_after_answer
        on conversations.conversation_id = revenue_after_answer.conversation_id
    left join revenue_after_recovery
        on conversations.conversation_id = revenue_after_recovery.conversation_id
    {% if is_incremental() %}
    where (conversations.brand, cast(date_trunc('month', conversations.first_inbound_date) as date))
        in (select brand, activity_month from affected_months)
    {% endif %}
    group by 1, 2
),

final as (
    select
        brand,
        activity_month,
        answered_contacts,
        answered_contacts * {{ number_var('deflection_rate') }} as deflected_contacts,
        answered_contacts * {{ number_var('deflection_rate') }} * {{ number_var('cost_per_call') }} as call_cost_avoided,
        recovered_conversations,
        recovered_customers,
        revenue_after_recovery,
        answered_customers_retained,
        revenue_after_answer,
        -- the assumptions behind the figures above, on every row (dbt vars; see dbt_project.yml)
        {{ number_var('deflection_rate') }}::double precision as assumed_deflection_rate,
        {{ number_var('cost_per_call') }}::double precision as assumed_cost_per_call,
        {{ number_var('revenue_window_days') }}::integer as assumed_revenue_window_days,
        changed_at
    from monthly
)

select * from final
