with customers as (
    select * from {{ ref('stg_raw__customers') }}
),

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

order_totals as (
    select
        source,
        customer_id,
        count(*) as order_count,
        sum(amount) as lifetime_spend,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    group by source, customer_id
),

final as (
    select
        customers.customer_id,
        customers.source,
        customers.social_handle,
        customers.customer_name,
        customers.customer_created_at,
        coalesce(order_totals.order_count, 0) as order_count,
        coalesce(order_totals.lifetime_spend, 0) as lifetime_spend,
        order_totals.first_order_at,
        order_totals.last_order_at
    from customers
    left join order_totals
        on customers.source = order_totals.source
        and customers.customer_id = order_totals.customer_id
)

select * from final
