{#
    Every brand that appears in the data, with its service configuration and where its business hours come from
    (hours_source):
    - configured: raw.brands holds the brand;
    - inferred: not configured (e.g. the support accounts of a twcs file), but it replied at least
      hours_inference_min_replies times in its last hours_inference_days of data (or its last 200 replies, where
      those days hold fewer): its staffed hours are the UTC
      hours holding at least hours_inference_min_share of its replies (first to last), on the ISO weekdays
      holding at least a quarter of its busiest weekday's replies;
    - default: neither; the project's default hours (dbt vars).
    Every brand not configured gets the default SLA.
#}
with configured as (
    select * from {{ ref('stg_raw__brands') }}
),

seen as (
    select distinct brand
    from {{ ref('stg_raw__posts') }}
    where brand is not null
),

unconfigured_seen as (
    select seen.brand
    from seen
    left join configured
        on seen.brand = configured.brand
    where configured.brand is null
),

replies as (
    select
        posts.brand,
        posts.created_at,
        max(posts.created_at) over (partition by posts.brand) as newest_reply_at,
        row_number() over (partition by posts.brand order by posts.created_at desc) as recency
    from {{ ref('stg_raw__posts') }} as posts
    where not posts.is_inbound
        and posts.brand in (select brand from unconfigured_seen)
),

recent_replies as (
    select * from replies
    -- the last hours_inference_days, or the brand's last 200 replies where those days hold fewer
    where created_at > newest_reply_at - {{ number_var('hours_inference_days') }} * interval '1 day' or recency <= 200
),

by_hour as (
    select brand, cast(extract(hour from created_at) as integer) as reply_hour, count(*) as replies
    from recent_replies
    group by brand, cast(extract(hour from created_at) as integer)
),

by_weekday as (
    select brand, cast(extract(isodow from created_at) as integer) as reply_weekday, count(*) as replies
    from recent_replies
    group by brand, cast(extract(isodow from created_at) as integer)
),

staffed_hours as (
    select
        by_hour.brand,
        min(by_hour.reply_hour) filter (where by_hour.replies >= totals.replies * {{ number_var('hours_inference_min_share') }})
            as open_hour,
        max(by_hour.reply_hour) filter (where by_hour.replies >= totals.replies * {{ number_var('hours_inference_min_share') }}) + 1
            as close_hour,
        max(totals.replies) as replies
    from by_hour
    inner join (select brand, sum(replies) as replies from by_hour group by brand) as totals
        on by_hour.brand = totals.brand
    group by by_hour.brand
),

staffed_days as (
    select
        by_weekday.brand,
        {{ list_agg('by_weekday.reply_weekday', order_by='by_weekday.reply_weekday') }}
            filter (where by_weekday.replies >= busiest.replies * 0.25) as days
    from by_weekday
    inner join (select brand, max(replies) as replies from by_weekday group by brand) as busiest
        on by_weekday.brand = busiest.brand
    group by by_weekday.brand
),

inferred as (
    select staffed_hours.brand, staffed_hours.open_hour, staffed_hours.close_hour, staffed_days.days
    from staffed_hours
    inner join staffed_days
        on staffed_hours.brand = staffed_days.brand
    where staffed_hours.replies >= {{ number_var('hours_inference_min_replies') }}
),

unconfigured as (
    select
        unconfigured_seen.brand,
        unconfigured_seen.brand as brand_name,
        'generic' as industry,
        {{ empty_list('varchar') }} as competitors,
        case when inferred.brand is not null then 'UTC' else {{ sql_string(var("default_timezone")) }} end as timezone_name,
        coalesce(inferred.open_hour, {{ number_var('default_business_open_hour') }}) as business_open_hour,
        coalesce(inferred.close_hour, {{ number_var('default_business_close_hour') }}) as business_close_hour,
        coalesce(inferred.days, {{ int_list_var("default_business_days") }}) as business_days,
        {{ empty_list('date') }} as holidays,
        {{ number_var('default_sla_minutes') }} as sla_minutes,
        false as is_configured,
        case when inferred.brand is not null then 'inferred' else 'default' end as hours_source
    from unconfigured_seen
    left join inferred
        on unconfigured_seen.brand = inferred.brand
),

resolved as (
    -- the same columns, named, on both sides of the union
    select
        brand, brand_name, industry, competitors, timezone_name, business_open_hour, business_close_hour,
        business_days, holidays, sla_minutes,
        true as is_configured,
        'configured' as hours_source
    from configured

    union all

    select
        brand, brand_name, industry, competitors, timezone_name, business_open_hour, business_close_hour,
        business_days, holidays, sla_minutes, is_configured, hours_source
    from unconfigured
),

final as (
    -- business hours: the brand's periods in seed business_schedules (int_business_schedules) where it has any,
    -- else business_open_hour to business_close_hour on business_days (the business_seconds macro joins them)
    select * from resolved
)

select * from final
