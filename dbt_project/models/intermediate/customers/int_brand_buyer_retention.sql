{#
    The repeat-purchase rule mart_brand_health's retention reads, one row per brand, customer and month in which the
    customer counts among the brand's earlier buyers: they bought from it in the three months before the last three
    (3 to 5 months before the month), and bought_again says whether they bought from it again in the last three (the
    month itself and the two before). Each month a customer bought in counts towards the months it is "before" and
    "again": six shifted rows per buyer month, folded into one per month.

    Incremental per customer: the rows of every customer whose orders were loaded or changed since the last build
    are computed again from all their orders; the post-hook deletes the rows of customers with no orders left
    (erased by `socialcx forget`), matched against the distinct buyers as in mart_wallet_share. Recomputing every
    customer's months on each run cost 3-4 s at 1M posts (3.8M orders), in mart_brand_health, however few orders
    had arrived.
#}
{{
    config(
        materialized='incremental',
        unique_key=['customer_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_customers_without_orders() }}"
    )
}}

with orders as (
    select * from {{ ref('stg_raw__orders') }}
    {% if is_incremental() %}
    where customer_id in (
        select customer_id from {{ ref('stg_raw__orders') }} where updated_at > {{ change_mark() }}
    )
    {% endif %}
),

buyer_months as (
    select
        brand,
        customer_id,
        cast(date_trunc('month', ordered_at) as date) as order_month,
        max(updated_at) as changed_at
    from orders
    group by 1, 2, 3
),

shifted as (
    select
        brand,
        customer_id,
        cast(order_month + months_after * interval '1 month' as date) as activity_month,
        bool_or(months_after >= 3) as bought_before,
        bool_or(months_after <= 2) as bought_again,
        max(changed_at) as changed_at
    from buyer_months
    cross join (values (0), (1), (2), (3), (4), (5)) as offsets(months_after)
    group by 1, 2, 3
),

final as (
    select
        brand,
        customer_id,
        activity_month,
        bought_again,
        -- the newest updated_at of the orders this row reads: the mark the next incremental build starts from
        changed_at
    from shifted
    where bought_before
)

select * from final
