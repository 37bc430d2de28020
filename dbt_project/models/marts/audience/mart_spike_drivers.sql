{#
    What a spike is about. For each negative spike (mart_sentiment.is_negative_spike) and each wildfire day
    (mart_amplification_daily.wildfire_count > 0) of a brand: the categories whose share of the day's negative
    posts rose most against the previous spike_driver_baseline_days, and the terms most over-represented among
    the day's negative posts against those days, by the log-odds ratio with an informative Dirichlet prior
    (Monroe, Colaresi and Quinn 2008, "Fightin' Words"), as a z-score. One row per driver.

    Incremental per affected spike day (brand and date): the days whose window (the day and its baseline) holds a
    post changed since the last build, the days that became spike or wildfire days or changed flags, and the days
    whose window's negative post counts differ from what was built (a post deleted, erased or no longer negative
    leaves no change behind). Counting posts per day is one pass; only the affected days' posts are split into
    terms. A day rebuilt without drivers writes a placeholder row (driver_kind 'none') so that delete+insert
    clears its old drivers; the post-hook deletes the placeholders, and the days that are no longer spike or
    wildfire days.
#}
{{
    config(
        materialized='incremental',
        unique_key=['brand', 'activity_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=without_nested_loops(merge_joins=false),
        post_hook=[
            "delete from {{ this }} where driver_kind = 'none'",
            "delete from {{ this }} as built where not exists (select 1 from {{ ref('mart_sentiment') }} as sentiment where sentiment.is_negative_spike and sentiment.brand = built.brand and sentiment.activity_date = built.activity_date) and not exists (select 1 from {{ ref('mart_amplification_daily') }} as daily where daily.wildfire_count > 0 and daily.brand = built.brand and daily.activity_date = built.activity_date)"
        ]
    )
}}

with negative_posts as (
    select brand, created_date, post_id, coalesce(primary_category, 'uncategorised') as category, text_redacted, changed_at
    from {{ ref('fct_posts') }}
    where is_inbound and sentiment_label = 'negative'
),

days as (
    select brand, activity_date, bool_or(is_negative_spike) as is_negative_spike, bool_or(is_wildfire_day) as is_wildfire_day
    from (
        select brand, activity_date, true as is_negative_spike, false as is_wildfire_day
        from {{ ref('mart_sentiment') }}
        where is_negative_spike
        union all
        select brand, activity_date, false, true
        from {{ ref('mart_amplification_daily') }}
        where wildfire_count > 0
    ) as subquery
    group by 1, 2
),

-- each brand's negative posts counted per day and category; a day's window (the day and its baseline) sums the
-- counts of its days. Joining every post to every window it falls in built 5M rows at 1M posts, most days being
-- wildfire days there.
daily_categories as (
    select brand, created_date, category, count(*) as posts, max(changed_at) as changed_at
    from negative_posts
    group by 1, 2, 3
),

-- every spike day's negative posts, on the day and in its baseline, and the newest change among them
sizes as (
    select
        days.brand,
        days.activity_date,
        cast(coalesce(sum(daily_categories.posts) filter (
            where daily_categories.created_date = days.activity_date), 0) as bigint) as day_posts,
        cast(coalesce(sum(daily_categories.posts) filter (
            where daily_categories.created_date < days.activity_date), 0) as bigint) as baseline_posts,
        max(daily_categories.changed_at) as changed_at
    from days
    inner join daily_categories
        on days.brand = daily_categories.brand
        and daily_categories.created_date between days.activity_date - {{ number_var('spike_driver_baseline_days') }}
            and days.activity_date
    group by 1, 2
),

{% if is_incremental() %}
built_days as (
    select distinct brand, activity_date, is_negative_spike, is_wildfire_day, day_posts, baseline_posts
    from {{ this }}
),

scope as (
    -- days whose window holds a post changed since the last build (any post: one no longer negative counts)
    select days.brand, days.activity_date, days.is_negative_spike, days.is_wildfire_day
    from days
    where exists (
        select 1 from {{ ref('fct_posts') }} as changed
        where changed.changed_at > {{ change_mark() }}
          and changed.brand = days.brand
          and changed.created_date between days.activity_date - {{ number_var('spike_driver_baseline_days') }}
              and days.activity_date
    )
    union
    -- days new or with other flags, and days whose window's counts are not those built
    select days.brand, days.activity_date, days.is_negative_spike, days.is_wildfire_day
    from days
    left join sizes
        on days.brand = sizes.brand
        and days.activity_date = sizes.activity_date
    left join built_days
        on days.brand = built_days.brand
        and days.activity_date = built_days.activity_date
    where built_days.brand is null
        or built_days.is_negative_spike <> days.is_negative_spike
        or built_days.is_wildfire_day <> days.is_wildfire_day
        or built_days.day_posts is distinct from sizes.day_posts
        or built_days.baseline_posts is distinct from sizes.baseline_posts
),
{% else %}
scope as (
    select * from days
),
{% endif %}

windowed as (
    select
        days.brand,
        days.activity_date,
        daily_categories.category,
        cast(coalesce(sum(daily_categories.posts) filter (
            where daily_categories.created_date = days.activity_date), 0) as bigint) as day_count,
        cast(coalesce(sum(daily_categories.posts) filter (
            where daily_categories.created_date < days.activity_date), 0) as bigint) as baseline_count
    from scope as days
    inner join daily_categories
        on days.brand = daily_categories.brand
        and daily_categories.created_date between days.activity_date - {{ number_var('spike_driver_baseline_days') }}
            and days.activity_date
    group by 1, 2, 3
),

-- a category's example posts: the first three ids of the day's posts in it
category_examples as (
    select
        negative_posts.brand,
        negative_posts.created_date,
        negative_posts.category,
        ({{ list_agg('negative_posts.post_id', order_by='negative_posts.post_id') }})[1:3] as example_post_ids
    from negative_posts
    where (negative_posts.brand, negative_posts.created_date) in (select brand, activity_date from scope)
    group by 1, 2, 3
),

-- categories: share of the day's negative posts against the baseline's, in percentage points
categories as (
    select
        windowed.brand,
        windowed.activity_date,
        windowed.category as driver,
        windowed.day_count,
        windowed.baseline_count,
        cast(windowed.day_count as double precision) / nullif(sizes.day_posts, 0) as day_share,
        cast(windowed.baseline_count as double precision) / nullif(sizes.baseline_posts, 0) as baseline_share,
        category_examples.example_post_ids
    from windowed
    inner join sizes
        on windowed.brand = sizes.brand
        and windowed.activity_date = sizes.activity_date
    left join category_examples
        on windowed.brand = category_examples.brand
        and windowed.activity_date = category_examples.created_date
        and windowed.category = category_examples.category
),

category_drivers as (
    select
        *,
        100 * (day_share - coalesce(baseline_share, 0)) as share_change_pts,
        cast(null as double precision) as log_odds_z
    from categories
    where day_count > 0 and 100 * (day_share - coalesce(baseline_share, 0)) > 0  -- only shares that rose
),

-- terms: each negative post in some day's window is split into terms once, counted per brand and day, and the
-- days' counts summed over each window (splitting each post once per window it falls in cost 126 s at 1M posts).
-- Materialized: ngrams reads the words eight times, and PostgreSQL, inlining a CTE read once, split the text
-- with its regular expressions for each
words as materialized (
    select brand, created_date, post_id, {{ term_words('text_redacted') }} as words
    from negative_posts
    where exists (
        select 1 from scope as days
        where days.brand = negative_posts.brand
          and negative_posts.created_date between days.activity_date - {{ number_var('spike_driver_baseline_days') }}
              and days.activity_date
    )
),

-- materialized: counted here, and read again for the examples of the few terms that drive a day
post_terms as materialized (
    select brand, created_date, post_id, unnest({{ ngrams('words') }}) as term
    from words
),

daily_terms as (
    select brand, created_date, term, count(*) as term_count
    from post_terms
    group by 1, 2, 3
),

-- the terms a driver can be are those of the day itself: each term's count on each day, and in the days before
-- it (a window over the term's days; joining every term of every window to its days built 8M rows at 1M posts)
term_counts as (
    select counted.*
    from (
        select
            brand,
            created_date as activity_date,
            term,
            term_count::bigint as day_count,
            coalesce(sum(term_count) over (
                partition by brand, term order by created_date
                range between {{ number_var('spike_driver_baseline_days') }} * interval '1 day' preceding
                    and interval '1 day' preceding
            ), 0)::bigint as baseline_count
        from daily_terms
    ) as counted
    where (counted.brand, counted.activity_date) in (select brand, activity_date from scope)
),

-- n_i, n_j: every term's posts on the day and in its baseline, the terms not on the day included
window_totals as (
    select
        days.brand,
        days.activity_date,
        coalesce(sum(daily.term_total) filter (where daily.created_date = days.activity_date), 0) as day_total,
        coalesce(sum(daily.term_total) filter (where daily.created_date < days.activity_date), 0) as baseline_total
    from scope as days
    inner join (
        select brand, created_date, sum(term_count) as term_total from daily_terms group by 1, 2
    ) as daily
        on days.brand = daily.brand
        and daily.created_date between days.activity_date - {{ number_var('spike_driver_baseline_days') }}
            and days.activity_date
    group by 1, 2
),

-- y_i, y_j: the term's posts on the day and in the baseline; n_i, n_j: all terms' posts in each. The prior:
-- the term's share of the whole window (day and baseline) times spike_driver_prior (alpha_0).
totals as (
    select
        term_counts.*,
        window_totals.day_total,
        window_totals.baseline_total,
        cast({{ number_var('spike_driver_prior') }} * (term_counts.day_count + term_counts.baseline_count) as double precision)
            / (window_totals.day_total + window_totals.baseline_total) as alpha
    from term_counts
    inner join window_totals
        on term_counts.brand = window_totals.brand
        and term_counts.activity_date = window_totals.activity_date
),

log_odds as (
    select
        *,
        ln((day_count + alpha) / (day_total + {{ number_var('spike_driver_prior') }} - day_count - alpha))
        - ln((baseline_count + alpha) / (baseline_total + {{ number_var('spike_driver_prior') }} - baseline_count - alpha))
            as delta,
        1.0 / (day_count + alpha) + 1.0 / (baseline_count + alpha) as delta_variance
    from totals
),

term_drivers as (
    select
        log_odds.brand,
        log_odds.activity_date,
        log_odds.term as driver,
        log_odds.day_count,
        log_odds.baseline_count,
        cast(log_odds.day_count as double precision) / sizes.day_posts as day_share,
        cast(log_odds.baseline_count as double precision) / nullif(sizes.baseline_posts, 0) as baseline_share,
        100 * (cast(log_odds.day_count as double precision) / sizes.day_posts
            - coalesce(cast(log_odds.baseline_count as double precision) / nullif(sizes.baseline_posts, 0), 0))
            as share_change_pts,
        {{ round_to('log_odds.delta / sqrt(log_odds.delta_variance)', 4) }} as log_odds_z
    from log_odds
    inner join sizes
        on log_odds.brand = sizes.brand
        and log_odds.activity_date = sizes.activity_date
    where log_odds.day_count >= {{ number_var('spike_driver_min_posts') }}
      and log_odds.delta > 0  -- over-represented on the day, not under
),

-- one phrase, not its parts: a term inside a longer driving phrase with as many posts that day ("app" and "crash"
-- inside "app crash") says nothing the phrase does not
distinct_terms as (
    select *
    from term_drivers as term
    where not exists (
        select 1
        from term_drivers as longer
        where longer.brand = term.brand
          and longer.activity_date = term.activity_date
          and longer.day_count = term.day_count
          and length(longer.driver) > length(term.driver)
          and strpos(' ' || longer.driver || ' ', ' ' || term.driver || ' ') > 0
    )
),

ranked as (
    select
        'category' as driver_kind, brand, activity_date, driver, day_count, baseline_count, day_share, baseline_share,
        example_post_ids, share_change_pts, log_odds_z,
        row_number() over (partition by brand, activity_date order by share_change_pts desc, driver) as driver_rank
    from category_drivers
    union all
    select
        'term' as driver_kind, brand, activity_date, driver, day_count, baseline_count, day_share, baseline_share,
        cast(null as varchar[]) as example_post_ids, share_change_pts, log_odds_z,
        row_number() over (partition by brand, activity_date order by log_odds_z desc, driver) as driver_rank
    from distinct_terms
),

-- a term's example posts (the first three ids of the day's posts that use it), for the terms shown only: listing
-- them for every term of every day cost a third of the model at 1M posts
term_examples as (
    select
        post_terms.brand,
        post_terms.created_date,
        post_terms.term,
        ({{ list_agg('post_terms.post_id', order_by='post_terms.post_id') }})[1:3] as example_post_ids
    from post_terms
    where (post_terms.brand, post_terms.created_date, post_terms.term) in (
        select brand, activity_date, driver from ranked
        where driver_kind = 'term' and driver_rank <= {{ number_var('spike_driver_terms') }}
    )
    group by 1, 2, 3
),

final as (
    select
        ranked.brand,
        ranked.activity_date,
        days.is_negative_spike,
        days.is_wildfire_day,
        ranked.driver_kind,
        ranked.driver_rank,
        ranked.driver,
        ranked.day_count,
        ranked.baseline_count,
        sizes.day_posts,
        sizes.baseline_posts,
        ranked.day_share,
        ranked.baseline_share,
        ranked.share_change_pts,
        ranked.log_odds_z,
        coalesce(ranked.example_post_ids, term_examples.example_post_ids) as example_post_ids,
        sizes.changed_at
    from ranked
    left join term_examples
        on ranked.driver_kind = 'term'
        and ranked.brand = term_examples.brand
        and ranked.activity_date = term_examples.created_date
        and ranked.driver = term_examples.term
    inner join scope as days
        on ranked.brand = days.brand
        and ranked.activity_date = days.activity_date
    inner join sizes
        on ranked.brand = sizes.brand
        and ranked.activity_date = sizes.activity_date
    where ranked.driver_rank <= {{ number_var('spike_driver_terms') }}
)

select * from final
{% if is_incremental() %}
union all
-- a placeholder for each rebuilt day, so that delete+insert clears a day left without drivers (the post-hook
-- deletes the placeholders)
select
    scope.brand, scope.activity_date, scope.is_negative_spike, scope.is_wildfire_day, 'none', 0, '', 0, 0, 0, 0,
    null, null, null, null, null, null
from scope
{% endif %}
