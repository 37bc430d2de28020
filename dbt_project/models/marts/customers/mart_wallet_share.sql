{#
    Share of wallet per customer, month and brand, next to what the Wallet Allocation Rule predicts from
    the customer's satisfaction rank among the brands of the category they buy from that month
    (Keiningham et al., "The Wallet Allocation Rule", 2015): predicted share = (1 - rank / (n + 1)) * (2 / n).

    Incremental per affected customer and month (macros/incremental_changes.sql, affected_customers()): a customer's
    rows from the first month a change touched (a month's satisfaction is the running history up to it, so the
    months after move too). Their spend is read for those months only, their conversations whole. The post-hook
    deletes the rows of customers who have no orders left (erased by `socialcx forget`), matched against the
    distinct buyers (0.6 s against 0.15 s at 3.8M orders, where matched against every order).
#}
{{
    config(
        materialized='incremental',
        unique_key=['customer_id', 'activity_month'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_customers_without_orders() }}"
    )
}}

-- depends_on: {{ ref('stg_raw__customers') }}, {{ ref('stg_raw__posts') }}, {{ ref('int_as_of') }}

with
{% if is_incremental() %}
affected as (
    {{ affected_customers() }}
),

{% endif %}
orders as (
    select orders.*
    from {{ ref('stg_raw__orders') }} as orders
    {% if is_incremental() %}
    inner join affected
        on orders.customer_id = affected.customer_id
        and orders.ordered_at >= affected.from_month
    {% endif %}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    where customer_id is not null
    {% if is_incremental() %}
        and customer_id in (select customer_id from affected)
    {% endif %}
),

spend as (
    select
        orders.customer_id,
        date_trunc('month', orders.ordered_at)::date as activity_month,
        coalesce(orders.industry, brands.industry, 'generic') as category,
        orders.brand,
        sum(orders.amount) as brand_spend,
        max(orders.updated_at) as orders_changed_at
    from orders
    left join brands
        on orders.brand = brands.brand
    group by 1, 2, 3, 4
),

conversation_months as (
    -- a customer's conversations with a brand per month, and running totals up to that month: joining spend
    -- to every earlier conversation instead multiplied each conversation by the months after it (seconds at 1M)
    select
        customer_id,
        brand,
        conversation_month,
        sum(score_sum) over history as score_sum,
        sum(score_count) over history as score_count,
        sum(conversations) over history as conversation_count,
        max(changed_at) over history as conversations_changed_at,
        lead(conversation_month) over (partition by customer_id, brand order by conversation_month) as next_month
    from (
        select
            customer_id,
            brand,
            date_trunc('month', first_inbound_at)::date as conversation_month,
            sum(experience_score) as score_sum,
            count(experience_score) as score_count,
            count(*) as conversations,
            max(changed_at) as changed_at
        from conversations
        group by 1, 2, 3
    ) as subquery
    window history as (partition by customer_id, brand order by conversation_month)
),

satisfaction as (
    -- everything the customer experienced with the brand up to the end of the month: the running totals of
    -- the latest conversation month not after it (at most one: a brand's conversation months do not overlap, so
    -- each month of spend keeps its one row)
    select
        spend.*,
        coalesce(cast(history.score_sum as double precision) / nullif(history.score_count, 0), 0) as satisfaction_score,
        coalesce(history.conversation_count, 0) as conversation_count,
        history.conversations_changed_at
    from spend
    left join conversation_months as history
        on spend.customer_id = history.customer_id
        and spend.brand = history.brand
        and history.conversation_month <= spend.activity_month
        and (history.next_month is null or history.next_month > spend.activity_month)
),

ranked as (
    select
        *,
        sum(brand_spend) over customer_month as category_spend,
        count(*) over customer_month as brands_used,
        max(orders_changed_at) over customer_month as month_orders_changed_at,
        -- tied brands share the average of the ranks they span, so predicted shares still add up to 1
        rank() over (partition by customer_id, activity_month, category order by satisfaction_score desc)
        + (count(*) over (partition by customer_id, activity_month, category, satisfaction_score) - 1) / 2.0
            as satisfaction_rank
    from satisfaction
    window customer_month as (partition by customer_id, activity_month, category)
),

final as (
    select
        customer_id,
        activity_month,
        brand,
        category,
        brand_spend,
        category_spend,
        cast(brand_spend as double precision) / category_spend as observed_share,
        brands_used,
        satisfaction_score,
        conversation_count,
        satisfaction_rank,
        (1 - cast(satisfaction_rank as double precision) / (brands_used + 1)) * (2.0 / brands_used) as war_predicted_share,
        -- the newest change the row reads: the customer's orders of the month, their conversations up to it
        greatest(month_orders_changed_at, coalesce(conversations_changed_at, month_orders_changed_at)) as changed_at
    from ranked
)

select * from final
