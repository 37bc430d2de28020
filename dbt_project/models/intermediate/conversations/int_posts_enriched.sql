{#
    Posts with their enrichment. Incremental: an hourly run rewrites only the posts whose raw row or enrichment
    changed since the newest changed_at already built (rewriting all of them cost 2.4 s at 1M posts). A post deleted
    since (its raw row changed) leaves in the pre-hook, before the mark moves; one erased (its raw row gone, no
    change left) in the post-hook's sweep, which compares every row only when sweep_due() (an erasure pending, or
    the daily full validation due): at 5M posts that compare was 0.85 s of every 0.1% build.
#}
{{
    config(
        materialized='incremental',
        unique_key=['source', 'post_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %} delete from {{ this }}
            where (source, post_id) in (
                select source, post_id from {{ ref('stg_raw__posts') }}
                where updated_at > {{ change_mark() }} and is_deleted) {% endif %}",
        post_hook="{% if is_incremental() and sweep_due() %} delete from {{ this }} as built where not exists (
            select 1 from {{ ref('stg_raw__posts') }} as posts
            where posts.source = built.source and posts.post_id = built.post_id and not posts.is_deleted) {% endif %}"
    )
}}

-- depends_on: {{ source('enriched', 'post_nlp') }}

with
{% if is_incremental() %}
-- a post whose raw row changed, or with an enrichment newer than the mark (its latest one, then)
changed as (
    select source, post_id from {{ ref('stg_raw__posts') }}
    where updated_at > {{ change_mark() }}
    union
    select source, post_id from {{ source('enriched', 'post_nlp') }}
    where enriched_at > {{ change_mark() }}
),

-- their latest enrichment only: the staging view ranks every post's enrichments (0.25 s at 1M, twice)
nlp as (
    {{ latest_post_nlp(only='changed') }}
),
{% else %}
nlp as (
    select * from {{ ref('stg_enriched__post_nlp') }}
),
{% endif %}

posts as (
    select posts.*
    from {{ ref('stg_raw__posts') }} as posts
    {% if is_incremental() %}
    where (posts.source, posts.post_id) in (select source, post_id from changed)
    {% endif %}
),

final as (
    select
        posts.source,
        posts.post_id,
        posts.parent_post_id,
        posts.author_id,
        posts.author_handle,
        posts.is_inbound,
        posts.brand,
        posts.created_at,
        posts.like_count,
        posts.repost_count,
        nlp.pipeline_version,
        nlp.lang,
        coalesce(nlp.is_english, true) as is_english,
        nlp.text_redacted,
        nlp.sentiment_label,
        nlp.sentiment_score,
        nlp.sentiment_confidence,
        nlp.categories,
        nlp.primary_category,
        nlp.intent,
        coalesce(nlp.is_churn_threat, false) as is_churn_threat,
        coalesce(nlp.is_legal_safety, false) as is_legal_safety,
        coalesce(nlp.is_public_shaming, false) as is_public_shaming,
        nlp.urgency,
        coalesce(nlp.topics, {{ empty_list('varchar') }}) as topics,
        nlp.post_id is not null as is_enriched,
        -- when anything this row is built from last changed: drives the incremental marts' lookback
        greatest(posts.updated_at, coalesce(nlp.enriched_at, posts.updated_at)) as changed_at
    from posts
    left join nlp
        on posts.source = nlp.source
        and posts.post_id = nlp.post_id
    where not posts.is_deleted
)

select * from final
