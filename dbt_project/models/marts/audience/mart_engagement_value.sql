{#
    Engagement that pays: do customers who talk with a brand on social buy more often, and more? Per brand, the
    CRM customers who bought from it or talked with it, grouped by how many conversations they had with it
    (0, 1, 2-3, 4+) and by the tone those ended on; per group, order frequency, basket size and spend a month
    over the period the orders cover. An association, not a cause: DECISIONLOG.md.
#}
with orders as (
    select * from {{ ref('stg_raw__orders') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    where customer_id is not null
),

period as (
    select {{ dbt.datediff('min(ordered_at)', 'max(ordered_at)', 'month') }} + 1 as months from orders
),

bought as (
    select brand, customer_id, count(*) as order_count, sum(amount) as spend
    from orders
    group by 1, 2
),

talked as (
    select
        brand,
        customer_id,
        count(*) as conversation_count,
        count(*) filter (where last_customer_sentiment = 'positive') as positive_endings,
        count(*) filter (where last_customer_sentiment = 'negative') as negative_endings
    from conversations
    group by 1, 2
),

customers as (
    select
        coalesce(bought.brand, talked.brand) as brand,
        coalesce(bought.customer_id, talked.customer_id) as customer_id,
        coalesce(bought.order_count, 0) as order_count,
        coalesce(bought.spend, 0) as spend,
        coalesce(talked.conversation_count, 0) as conversation_count,
        case
            when coalesce(talked.conversation_count, 0) = 0 then 'none'
            when talked.positive_endings > talked.negative_endings then 'positive'
            when talked.negative_endings > talked.positive_endings then 'negative'
            else 'neutral'
        end as tone
    from bought
    full outer join talked
        on bought.brand = talked.brand
        and bought.customer_id = talked.customer_id
),

grouped as (
    select
        *,
        case
            when conversation_count = 0 then '0'
            when conversation_count = 1 then '1'
            when conversation_count <= 3 then '2-3'
            else '4+'
        end as engagement_group
    from customers
),

final as (
    select
        grouped.brand,
        grouped.engagement_group,
        coalesce(grouped.tone, 'all') as tone,
        count(*) as customer_count,
        sum(grouped.order_count) as order_count,
        sum(grouped.spend) as spend,
        {{ any_value('period.months') }} as period_months,
        cast(sum(grouped.order_count) as double precision) / count(*) / {{ any_value('period.months') }} as orders_per_customer_month,
        cast(sum(grouped.spend) as double precision) / nullif(sum(grouped.order_count), 0) as basket_size,
        cast(sum(grouped.spend) as double precision) / count(*) / {{ any_value('period.months') }} as spend_per_customer_month
    from grouped
    cross join period
    group by grouping sets ((grouped.brand, grouped.engagement_group, grouped.tone), (grouped.brand, grouped.engagement_group))
)

select * from final
