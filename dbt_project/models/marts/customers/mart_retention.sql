{#
    Retention of customers by the service their first contact with a brand got. A customer's cohort is the
    month of their first conversation with the brand; they count as retained in month k after it when they
    ordered from that brand in that calendar month.
#}
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

cohorts as (
    select
        first_contact.customer_id,
        first_contact.brand,
        date_trunc('month', first_contact.first_contact_at)::date as cohort_month,
        conversations.service_experience,
        case
            when conversations.is_recovered then 'recovered'
            when conversations.is_negative_start then 'not recovered'
            else 'not negative'
        end as recovery_status
    from first_contact
    inner join conversations
        on first_contact.conversation_id = conversations.conversation_id
),

horizon as (
    select date_trunc('month', max(ordered_at))::date as last_month from orders
),

offsets as (
    select
        cohorts.*,
        {{ int_series('0', "cast(" ~ dbt.datediff('cohorts.cohort_month', 'horizon.last_month', 'month') ~ " as integer)") }} as month_offset
    from cohorts
    cross join horizon
),

active as (
    select distinct
        customer_id,
        brand,
        date_trunc('month', ordered_at)::date as order_month
    from orders
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
        cast(count(active.customer_id) as double precision) / count(*) as retention_rate
    from offsets
    left join active
        on offsets.customer_id = active.customer_id
        and offsets.brand = active.brand
        and active.order_month = offsets.cohort_month + (offsets.month_offset * interval '1 month')
    group by 1, 2, 3, 4, 5
)

select * from final
