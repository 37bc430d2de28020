{#
    How far each conversation carried: its author's audience, the engagement it gathered, who shared it, how
    much of that happened before the brand's first reply, and whether it became a wildfire. One row per
    conversation. Definitions and their reasons: _audience__models.yml and DECISIONLOG.md.

    Incremental per conversation. A run finds the conversations something touched since the newest changed_at
    built (less change_margin_minutes): a post of theirs changed (affected_conversations), what this model reads of
    fct_conversations differs from what it built (new, answered, linked to a CRM customer...), engagement was
    observed or a share loaded for one of their posts, or the customer or a sharer has a new audience. A
    conversation's wildfire verdict depends on its brand's complaints of the norm_days before its day, so every
    conversation of the brand opened on a touched day or in the norm_days after it is rebuilt too. Only those are
    measured; the complaints of the norm_days before them that are not rebuilt are read as built (nothing touched
    them, so their measures are what a rebuild would give). New thresholds (the wildfire vars):
    `socialcx transform --full-refresh --select mart_amplification+`.
#}
{%- set norm_days = 28 -%}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_conversations_gone() }}"
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

touched as (
    {{ affected_conversations('changes') }}
    union
    -- new, or what this model reads of the conversation changed (its first reply, its CRM customer, its start)
    select conversations.conversation_id
    from {{ ref('fct_conversations') }} as conversations
    left join {{ this }} as built
        on conversations.conversation_id = built.conversation_id
    where built.conversation_id is null
        {%- for column in ['brand', 'source', 'customer_id', 'customer_author_id', 'first_inbound_at',
                           'first_inbound_date', 'first_response_at', 'is_responded', 'is_negative_start',
                           'first_customer_sentiment', 'primary_category'] %}
        or conversations.{{ column }} is distinct from built.{{ column }}
        {%- endfor %}
    union
    -- engagement observed, or a share loaded, since: for any customer post, however old (the few rows loaded are
    -- looked up from the posts, not every customer post hashed to meet them)
    {%- for loaded in ['stg_raw__post_metrics', 'stg_raw__post_shares'] %}
    select posts.conversation_id
    from {{ ref('fct_posts') }} as posts
    where posts.is_inbound and exists (
        select 1 from {{ ref(loaded) }} as loaded
        where loaded.source = posts.source and loaded.post_id = posts.post_id
            and loaded.loaded_at > {{ change_mark() }}
    )
    union
    {%- endfor %}
    -- a new audience: the customer's conversations, and those whose posts the person shared
    select conversations.conversation_id
    from {{ ref('fct_conversations') }} as conversations
    inner join {{ ref('stg_raw__authors') }} as authors
        on conversations.source = authors.source and conversations.customer_author_id = authors.author_id
    where authors.updated_at > {{ change_mark() }}
    union
    select posts.conversation_id
    from {{ ref('stg_raw__post_shares') }} as shares
    inner join {{ ref('stg_raw__authors') }} as authors
        on shares.source = authors.source and shares.sharer_author_id = authors.author_id
    inner join {{ ref('fct_posts') }} as posts
        on shares.source = posts.source and shares.post_id = posts.post_id
    where authors.updated_at > {{ change_mark() }}
),

-- the brand and day of each touched conversation, as built and as it is now, and of each built one that is gone:
-- each moves the norm of the norm_days after it
touched_days as (
    select brand, first_inbound_date as touched_date
    from {{ ref('fct_conversations') }}
    where conversation_id in (select conversation_id from touched)
    union
    select brand, first_inbound_date
    from {{ this }} as built
    where built.conversation_id in (select conversation_id from touched)
        or not exists (
            select 1 from {{ ref('fct_conversations') }} as conversations
            where conversations.conversation_id = built.conversation_id
        )
),

{% endif %}
conversations as (
    select * from {{ ref('fct_conversations') }} as conversations
    {% if is_incremental() %}
    -- what is rebuilt: the brand's conversations opened on a touched day or in the norm_days after it
    where exists (
        select 1 from touched_days
        where touched_days.brand = conversations.brand
            and conversations.first_inbound_date between touched_days.touched_date
                and touched_days.touched_date + {{ norm_days }}
    )
    {% endif %}
),

customer_posts as (
    select source, post_id, conversation_id, like_count, repost_count
    from {{ ref('fct_posts') }}
    where is_inbound
    {% if is_incremental() %}
        and conversation_id in (select conversation_id from conversations)
    {% endif %}
),

authors as (
    select * from {{ ref('stg_raw__authors') }}
),

metrics as (
    select metrics.*, customer_posts.conversation_id
    from {{ ref('stg_raw__post_metrics') }} as metrics
    inner join customer_posts
        on metrics.source = customer_posts.source
        and metrics.post_id = customer_posts.post_id
),

shares as (
    select shares.*, customer_posts.conversation_id
    from {{ ref('stg_raw__post_shares') }} as shares
    inner join customer_posts
        on shares.source = customer_posts.source
        and shares.post_id = customer_posts.post_id
),

-- each customer post's engagement now: its newest observation, or the counts on the post when never observed
post_engagement as (
    select
        customer_posts.conversation_id,
        {{ arg_max('metrics.engagement_count', 'metrics.observed_at') }} as observed_engagement,
        coalesce(
            {{ arg_max('metrics.engagement_count', 'metrics.observed_at') }},
            {{ any_value('coalesce(customer_posts.like_count, 0) + coalesce(customer_posts.repost_count, 0)') }}
        ) as engagement_count,
        max(metrics.loaded_at) as loaded_at
    from customer_posts
    left join metrics
        on customer_posts.source = metrics.source
        and customer_posts.post_id = metrics.post_id
    group by customer_posts.source, customer_posts.post_id, customer_posts.conversation_id
),

engagement as (
    select
        conversation_id,
        sum(engagement_count) as engagement_count,
        sum(observed_engagement) as observed_engagement,
        max(loaded_at) as loaded_at
    from post_engagement
    group by conversation_id
),

-- while unanswered: each post's newest observation before the first brand reply (every observation when none)
unanswered_posts as (
    select
        metrics.conversation_id,
        {{ arg_max('metrics.engagement_count', 'metrics.observed_at') }} as engagement_count,
        max(metrics.observed_at) as observed_at
    from metrics
    inner join conversations
        on metrics.conversation_id = conversations.conversation_id
    where conversations.first_response_at is null or metrics.observed_at < conversations.first_response_at
    group by metrics.conversation_id, metrics.source, metrics.post_id
),

unanswered as (
    select conversation_id, sum(engagement_count) as engagement_count, max(observed_at) as observed_at
    from unanswered_posts
    group by conversation_id
),

-- sharers: each person once per conversation, their audience where their network described them
sharers as (
    select
        shares.conversation_id,
        shares.sharer_author_id,
        min(shares.shared_at) as first_shared_at,
        {{ any_value('authors.followers_count') }} as followers_count,
        greatest(max(shares.loaded_at), max(authors.updated_at)) as changed_at
    from shares
    left join authors
        on shares.source = authors.source
        and shares.sharer_author_id = authors.author_id
    group by shares.conversation_id, shares.sharer_author_id
),

reach as (
    select
        sharers.conversation_id,
        count(*) as known_sharer_count,
        coalesce(sum(sharers.followers_count), 0) as sharer_followers,
        coalesce(sum(sharers.followers_count) filter (
            where conversations.first_response_at is null or sharers.first_shared_at < conversations.first_response_at
        ), 0) as sharer_followers_unanswered,
        max(sharers.changed_at) as changed_at
    from sharers
    inner join conversations
        on sharers.conversation_id = conversations.conversation_id
    group by sharers.conversation_id
),

measured as (
    select
        conversations.conversation_id,
        conversations.brand,
        conversations.source,
        conversations.customer_id,
        conversations.customer_author_id,
        conversations.first_inbound_at,
        conversations.first_inbound_date,
        conversations.first_response_at,
        conversations.is_responded,
        conversations.is_negative_start,
        conversations.first_customer_sentiment,
        conversations.primary_category,
        authors.followers_count as author_followers,
        coalesce(engagement.engagement_count, 0) as engagement_count,
        coalesce(reach.known_sharer_count, 0) as known_sharer_count,
        coalesce(authors.followers_count, 0) + coalesce(reach.sharer_followers, 0) as potential_reach,
        coalesce(authors.followers_count, 0) + coalesce(reach.sharer_followers_unanswered, 0) as reach_while_unanswered,
        -- before and after the first reply, from observations: unknown (null) when none was made before it; a
        -- post never observed has no known timing and is in neither (it is in engagement_count)
        case when conversations.is_responded then unanswered.engagement_count end as engagement_before_reply,
        case
            when conversations.is_responded and unanswered.engagement_count is not null
                then engagement.observed_engagement - unanswered.engagement_count
        end as engagement_after_reply,
        coalesce(unanswered.engagement_count, 0) as engagement_while_unanswered,
        -- growth while unanswered: engagement an hour, over at least one hour (a first observation minutes
        -- after the post is not extrapolated into a wildfire)
        unanswered.engagement_count / greatest(
            {{ dbt.datediff('conversations.first_inbound_at', 'unanswered.observed_at', 'second') }} / 3600.0, 1.0
        ) as engagement_per_hour_unanswered,
        -- when anything this row is built from last changed (the conversation, an observation or share loaded, an
        -- audience described): the incremental run's mark
        greatest(conversations.changed_at, engagement.loaded_at, reach.changed_at, authors.updated_at) as changed_at
    from conversations
    left join authors
        on conversations.source = authors.source
        and conversations.customer_author_id = authors.author_id
    left join engagement
        on conversations.conversation_id = engagement.conversation_id
    left join unanswered
        on conversations.conversation_id = unanswered.conversation_id
    left join reach
        on conversations.conversation_id = reach.conversation_id
),

-- the brand's recent norm for each day it had a conversation: the median growth of its complaints opened in the
-- 28 days before that day. The day itself is left out, so a storm of complaints this morning does not raise the
-- bar it is judged against this afternoon; and one norm a day is a join of each day to four weeks of complaints,
-- which any engine runs (a frame per conversation was a median over every row's own frame: 5 minutes at 1M posts
-- on PostgreSQL, which has no ordered-set aggregate over a window)
days as (
    select distinct brand, first_inbound_date from measured
),

complaints as (
    select brand, first_inbound_date, engagement_per_hour_unanswered
    from measured
    where is_negative_start and engagement_per_hour_unanswered is not null
    {% if is_incremental() %}
    union all
    -- the complaints of the norm_days before a rebuilt day that this run does not rebuild, as built: a conversation
    -- measured above is read from there, one gone from fct_conversations is left out (the post-hook deletes it)
    select built.brand, built.first_inbound_date, built.engagement_per_hour_unanswered
    from {{ this }} as built
    where built.is_negative_start and built.engagement_per_hour_unanswered is not null
        and exists (
            select 1 from days
            where days.brand = built.brand
                and built.first_inbound_date >= days.first_inbound_date - {{ norm_days }}
                and built.first_inbound_date < days.first_inbound_date
        )
        and not exists (select 1 from measured where measured.conversation_id = built.conversation_id)
        and exists (
            select 1 from {{ ref('fct_conversations') }} as conversations
            where conversations.conversation_id = built.conversation_id
        )
    {% endif %}
),

norms as (
    select
        days.brand,
        days.first_inbound_date,
        {{ median('complaints.engagement_per_hour_unanswered') }} as brand_norm_engagement_per_hour
    from days
    inner join complaints
        on days.brand = complaints.brand
        and complaints.first_inbound_date >= days.first_inbound_date - {{ norm_days }}
        and complaints.first_inbound_date < days.first_inbound_date
    group by days.brand, days.first_inbound_date
),

normed as (
    select measured.*, norms.brand_norm_engagement_per_hour
    from measured
    left join norms
        on measured.brand = norms.brand
        and measured.first_inbound_date = norms.first_inbound_date
),

final as (
    select
        *,
        coalesce(
            is_negative_start and (
                engagement_while_unanswered >= {{ number_var('wildfire_min_engagement') }}
                or reach_while_unanswered >= {{ number_var('wildfire_min_reach') }}
                or (
                    engagement_while_unanswered >= {{ number_var('wildfire_min_growth_engagement') }}
                    and engagement_per_hour_unanswered
                        > {{ number_var('wildfire_growth_factor') }} * brand_norm_engagement_per_hour
                )
            ),
            false
        ) as is_wildfire
    from normed
)

select * from final
