{#- One row per post from enriched.post_nlp: its latest enrichment, whichever pipeline version wrote it (the newest
    enriched_at; on a tie the greater pipeline_version). ``only`` names a relation or CTE of (source, post_id): the
    posts are picked before they are ranked, which is exact (each post is ranked among its own rows) and spares an
    incremental run ranking every post's enrichments (int_posts_enriched). Rows carry a `recency` column (1). -#}
{% macro latest_post_nlp(only=none) -%}
    select *
    from (
        select *, row_number() over (partition by source, post_id order by enriched_at desc, pipeline_version desc) as recency
        from {{ source('enriched', 'post_nlp') }}
        {%- if only %}
        where (source, post_id) in (select source, post_id from {{ only }})
        {%- endif %}
    ) as ranked
    where recency = 1
{%- endmacro %}
