{#
    Retention of customers by the service their first contact with a brand got. A customer's cohort is the
    month of their first conversation with the brand; they count as retained in month k after it when they
    ordered from that brand in that calendar month.

    Incremental per affected cohort (brand and cohort month): the cohorts of customers whose first contact changed
    since the last build (or is within lookback_days: its service still moves), whose orders with the brand or
    whose CRM record changed; the cohorts whose membership differs from what was built (a first contact erased,
    re-threaded or moved earlier changes their sizes); and every cohort when the last order month moves (each
    gains a month). A later conversation does not move a cohort, so it is not a change here. Cohorts are found from one pass over the customers'
    conversations; only the affected ones are expanded into months and matched with orders. The post-hook deletes
    cohorts that lost every customer.
#}
{{
    config(
        materialized='incremental',
        unique_key=['brand', 'cohort_month'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} as built where not exists (select 1 from (select customer_id, brand, min(first_inbound_at) as first_contact_at from {{ ref('fct_conversations') }} where customer_id is not null group by customer_id, brand) as first_contact where first_contact.brand = built.brand and cast(date_trunc('month', first_contact.first_contact_at) as date) = built.cohort_month)"
    )
}}

-- depends_on: {{ ref('stg_raw__customers') }}, {{ ref('int_as_of') }}

with conversations as (
    select * from {{ ref('fct_conversations') }}
    where customer_id is not null
),

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

first_contact as (
    select
        customer_id,
        brand,
        {{ arg_min('conversation_id', 'first_inbound_at') }} as conversation_id,
        min(first_inbound_at) as first_contact_at
    from conversations
    group by customer_id, brand
),

orders_changed as (
    select customer_id, brand, max(updated_at) as orders_changed_at
    from orders
    group by customer_id, brand
),

cohorts as (
    select
        first_contact.customer_id,
        first_contact.brand,
        cast(date_trunc('month', first_contact.first_contact_at) as date) as cohort_month,
        conversations.service_experience,
        case
            when conversations.is_recovered then 'recovered'
            when conversations.is_negative_start then 'not recovered'
            else 'not negative'
        end as recovery_status,
        first_contact.first_contact_at,
        conversations.changed_at as first_contact_changed_at,
        -- the newest change the customer's place in the cohort reads: their first conversation and their orders
        greatest(
            conversations.changed_at,
            coalesce(orders_changed.orders_changed_at, conversations.changed_at)
        ) as changed_at
    from first_contact
    inner join conversations
        on first_contact.conversation_id = conversations.conversation_id
    left join orders_changed
        on first_contact.customer_id = orders_changed.customer_id
        and first_contact.brand = orders_changed.brand
),

horizon as (
    select cast(date_trunc('month', max(ordered_at)) as date) as last_month from orders
),

{% if is_incremental() %}
affected_cohorts as (
    -- the cohorts of customers whose first contact changed or is still moving (within lookback_days, as
    -- fct_conversations rebuilds those), whose orders with the brand or whose CRM record changed
    select brand, cohort_month
    from cohorts
    where first_contact_changed_at > {{ change_mark() }}
        or {{ within_lookback('first_contact_at') }}
        or (customer_id, brand) in (
            select customer_id, brand from {{ ref('stg_raw__orders') }} where updated_at > {{ change_mark() }}
        )
        or customer_id in ({{ changed_customers() }})
    union
    -- the cohorts whose membership changed: their sizes differ from what was built (or they are new, or gone)
    select coalesce(sizes.brand, built.brand), coalesce(sizes.cohort_month, built.cohort_month)
    from (
        select brand, cohort_month, service_experience, recovery_status, count(*) as cohort_customers
        from cohorts
        group by brand, cohort_month, service_experience, recovery_status
    ) as sizes
    full outer join (select * from {{ this }} where month_offset = 0) as built
        on sizes.brand = built.brand
        and sizes.cohort_month = built.cohort_month
        and sizes.service_experience is not distinct from built.service_experience
        and sizes.recovery_status = built.recovery_status
    where sizes.cohort_customers is distinct from built.cohort_customers
    union
    -- every cohort when the last order month moved: each gains a month
    select brand, cohort_month
    from cohorts
    where (select last_month from horizon) is distinct from (
        select cast(max(cohort_month + month_offset * interval '1 month') as date) from {{ this }}
    )
),

{% endif %}
offsets as (
    select
        cohorts.*,
        {{ int_series('0', "cast(" ~ dbt.datediff('cohorts.cohort_month', 'horizon.last_month', 'month') ~ " as integer)") }} as month_offset
    from cohorts
    cross join horizon
    {% if is_incremental() %}
    where (cohorts.brand, cohorts.cohort_month) in (select brand, cohort_month from affected_cohorts)
    {% endif %}
),

active as (
    select distinct
        customer_id,
        brand,
        date_trunc('month', ordered_at)::date as order_month
    from orders
    {% if is_incremental() %}
    where (customer_id, brand) in (select distinct customer_id, brand from offsets)
    {% endif %}
),

final as (
    select
        offsets.brand,
        offsets.cohort_month,
        offsets.service_experience,
        offsets.recovery_status,
        offsets.month_offset,
        count(*) as cohort_customers,
        count(active.customer_id) as retained_customers,
        cast(count(active.customer_id) as double precision) / count(*) as retention_rate,
        max(offsets.changed_at) as changed_at
    from offsets
    left join active
        on offsets.customer_id = active.customer_id
        and offsets.brand = active.brand
        and active.order_month = offsets.cohort_month + (offsets.month_offset * interval '1 month')
    group by 1, 2, 3, 4, 5
)

select * from final
