{#
    Where demand outruns replies: per brand, ISO day of week (1 = Monday) and hour, in the brand's own time zone,
    the customer posts that arrived and the brand replies sent over the whole period, per week on average, and the
    median wait of the replies answering posts that arrived in that hour.
#}
with posts as (
    select posts.*, brands.timezone_name
    from {{ ref('fct_posts') }} as posts
    inner join {{ ref('int_brands_resolved') }} as brands
        on posts.brand = brands.brand
),

replies as (
    select replies.*, brands.timezone_name
    from {{ ref('fct_replies') }} as replies
    inner join {{ ref('int_brands_resolved') }} as brands
        on replies.brand = brands.brand
),

weeks as (
    select brand, greatest(1, {{ dbt.datediff('min(created_at)', 'max(created_at)', 'day') }} / 7.0) as weeks
    from posts
    group by brand
),

arriving as (
    select
        brand,
        cast(extract(isodow from timezone(timezone_name, created_at)) as bigint) as day_of_week,
        cast(extract(hour from timezone(timezone_name, created_at)) as bigint) as hour_of_day,
        count(*) filter (where is_inbound) as customer_posts,
        count(*) filter (where not is_inbound) as brand_replies
    from posts
    group by 1, 2, 3
),

waits as (
    select
        brand,
        cast(extract(isodow from timezone(timezone_name, answers_at)) as bigint) as day_of_week,
        cast(extract(hour from timezone(timezone_name, answers_at)) as bigint) as hour_of_day,
        {{ median('response_seconds') }} / 60.0 as median_wait_minutes
    from replies
    where answers_at is not null
    group by 1, 2, 3
),

final as (
    select
        arriving.brand,
        arriving.day_of_week,
        arriving.hour_of_day,
        arriving.customer_posts,
        arriving.brand_replies,
        cast(arriving.customer_posts as double precision) / weeks.weeks as customer_posts_per_week,
        cast(arriving.brand_replies as double precision) / weeks.weeks as brand_replies_per_week,
        arriving.customer_posts - arriving.brand_replies as unmet_demand,
        waits.median_wait_minutes
    from arriving
    inner join weeks
        on arriving.brand = weeks.brand
    left join waits
        on arriving.brand = waits.brand
        and arriving.day_of_week = waits.day_of_week
        and arriving.hour_of_day = waits.hour_of_day
)

select * from final
