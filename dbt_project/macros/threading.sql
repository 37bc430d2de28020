{#- The reply-chain walk of int_posts_threaded: one row per post that belongs to a conversation (source, post_id,
    root_post_id, depth). In an incremental build it walks only the conversations a change touched, from the posts
    the model's pre-hooks wrote to _threaded_candidates (thread_candidates()). -#}
{% macro thread_walk() -%}
with recursive posts as (
    select * from {{ ref('int_posts_enriched') }}
),

with_parent as (
    select
        child.source,
        child.post_id,
        child.is_inbound,
        parent.post_id is not null as has_parent,
        parent.is_inbound as parent_is_inbound,
        parent.parent_post_id is null as parent_is_top_level
    {% if is_incremental() %}
    from _threaded_candidates as candidates
    inner join posts as child
        on candidates.source = child.source
        and candidates.post_id = child.post_id
    {% else %}
    from posts as child
    {% endif %}
    left join posts as parent
        on child.source = parent.source
        and child.parent_post_id = parent.post_id
),

roots as (
    select
        source,
        post_id
    from with_parent
    where is_inbound
        and (not has_parent or (not parent_is_inbound and parent_is_top_level))
),

tree as (
    select
        roots.source,
        roots.post_id,
        roots.post_id as root_post_id,
        0 as depth
    from roots

    union all

    select
        child.source,
        child.post_id,
        tree.root_post_id,
        tree.depth + 1 as depth
    from posts as child
    inner join tree
        on child.source = tree.source
        and child.parent_post_id = tree.post_id
    where tree.depth < 500
)

select source, post_id, root_post_id, depth from tree
{%- endmacro %}

{#- The posts an incremental walk starts from (thread_walk()): the changed posts (_threaded_changes) and their
    replies, everything above them, and the roots built before of the conversations they touched
    (_threaded_old_roots). A table of its own, written by a pre-hook, so that DuckDB knows how few they are when it
    joins them with their parents: in the walk's query it guessed 500M rows from the recursion and joined every post
    with its parent first (3M rows at 5M posts), then kept the candidates' (int_posts_threaded 1.0 s, now 0.7). -#}
{% macro thread_candidates() -%}
with recursive posts as (
    select * from {{ ref('int_posts_enriched') }}
),

-- the changed posts and their replies, then everything above them
changed as (
    select posts.source, posts.post_id, posts.parent_post_id
    from posts
    where (posts.source, posts.post_id) in (select source, post_id from _threaded_changes)
    union
    select posts.source, posts.post_id, posts.parent_post_id
    from posts
    where (posts.source, posts.parent_post_id) in (select source, post_id from _threaded_changes)
),

ancestors as (
    select source, post_id, parent_post_id, 0 as height
    from changed
    union all
    select parent.source, parent.post_id, parent.parent_post_id, ancestors.height + 1
    from posts as parent
    inner join ancestors on parent.source = ancestors.source and parent.post_id = ancestors.parent_post_id
    where ancestors.height < 500
),

candidates as (
    select source, post_id from ancestors
    union
    select source, post_id from _threaded_old_roots
)

select source, post_id from candidates
{%- endmacro %}
