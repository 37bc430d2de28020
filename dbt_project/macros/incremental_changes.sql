{#
    cast(What an incremental run of fct_posts as double precision) / fct_conversations must rebuild, from one high-water mark: the newest
    changed_at already in the target, less change_margin_minutes.

    changed_posts(): every post whose raw row (new, edited, deleted: the merge moves updated_at) or enrichment
    changed since the mark, with its parent. Deleted posts are in it, though they are no longer in the models.

    affected_conversations(changed): the conversations those changes touch, by today's threading: a changed
    post's own, its parent's (a deleted or late reply changes its parent's conversation), and its children's (a
    late parent moves them; a deleted parent drops them). ``changed`` names a CTE holding changed_posts();
    ``threaded_relation`` is int_posts_threaded unless given (int_posts_threaded passes its own last build).

    The calling model declares these refs in a `-- depends_on:` comment: refs inside is_incremental() are
    not seen when dbt parses the model.
#}

{% macro change_mark() -%}
    (select max(changed_at) from {{ this }}) - {{ var('change_margin_minutes') }} * interval '1 minute'
{%- endmacro %}

{% macro changed_posts() -%}
    select source, post_id, parent_post_id
    from {{ ref('stg_raw__posts') }}
    where updated_at > {{ change_mark() }}
    union
    select source, post_id, parent_post_id
    from {{ ref('int_posts_enriched') }}
    where changed_at > {{ change_mark() }}
{%- endmacro %}

{% macro affected_conversations(changed='changes', threaded_relation=none) -%}
    {#- three equi-joins, not one join on OR: DuckDB hashes these, an OR join compares every pair -#}
    {%- set threaded_relation = threaded_relation or ref('int_posts_threaded') -%}
    select threaded.conversation_id
    from {{ threaded_relation }} as threaded
    inner join {{ changed }} on threaded.source = {{ changed }}.source and threaded.post_id = {{ changed }}.post_id
    union
    select threaded.conversation_id
    from {{ threaded_relation }} as threaded
    inner join {{ changed }}
        on threaded.source = {{ changed }}.source and threaded.post_id = {{ changed }}.parent_post_id
    union
    select threaded.conversation_id
    from {{ threaded_relation }} as threaded
    inner join {{ changed }}
        on threaded.source = {{ changed }}.source and threaded.parent_post_id = {{ changed }}.post_id
{%- endmacro %}
