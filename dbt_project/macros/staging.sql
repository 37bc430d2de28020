{#- One row per post from enriched.post_nlp: its latest enrichment, whichever pipeline version wrote it (the newest
    enriched_at; on a tie the greater pipeline_version). ``only`` names a relation or CTE of (source, post_id): the
    posts are picked first, which spares an incremental run reading every post's enrichments (int_posts_enriched).
    Rows carry a `recency` column (1).

    The latest row is the one no other row of its post outranks: (source, post_id, pipeline_version) is the table's
    primary key, so the order is strict and exactly one row of each post is kept, as a row_number() = 1 would keep.
    An anti-join, not a window: DuckDB hashes the posts instead of sorting them, and a filter on the view (a data
    test's `sentiment_label not in (...)`) reaches the table's scan below it, where a window stopped it (the
    accepted-values test on stg_enriched__post_nlp took 0.21 s at 1M posts, 0.01 s this way; the whole view 0.38-0.51 s
    against 0.63-0.85 s). -#}
{% macro latest_post_nlp(only=none) -%}
    select nlp.*, 1 as recency
    from {{ _post_nlp_rows(only) }} as nlp
    where not exists (
        select 1 from {{ _post_nlp_rows(only) }} as newer
        where newer.source = nlp.source
            and newer.post_id = nlp.post_id
            and (newer.enriched_at > nlp.enriched_at
                 or (newer.enriched_at = nlp.enriched_at and newer.pipeline_version > nlp.pipeline_version))
    )
{%- endmacro %}

{#- enriched.post_nlp, or its rows of the posts ``only`` names, picked before the anti-join: picked after it, DuckDB
    compared every post's rows first (int_posts_enriched's query at 1M posts: 0.5 s, against 0.025 s) -#}
{% macro _post_nlp_rows(only) -%}
    {%- if only -%}
    (select * from {{ source('enriched', 'post_nlp') }} where (source, post_id) in (select source, post_id from {{ only }}))
    {%- else -%}
    {{ source('enriched', 'post_nlp') }}
    {%- endif -%}
{%- endmacro %}
