{#
    Assigns every post to the conversation it belongs to, by walking reply chains down from their roots.
    A root is a customer post that replies to no one, whose parent is not in the data, or whose parent
    is a brand's broadcast (a brand post that itself replies to no one). Brand broadcasts and posts
    that hang off no root belong to no conversation and are left out.
#}
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
        parent.parent_post_id is null as parent_is_top_level,
    from posts as child
    left join posts as parent
        on child.source = parent.source
        and child.parent_post_id = parent.post_id
),

roots as (
    select
        source,
        post_id,
    from with_parent
    where is_inbound
        and (not has_parent or (not parent_is_inbound and parent_is_top_level))
),

tree as (
    select
        roots.source,
        roots.post_id,
        roots.post_id as root_post_id,
        0 as depth,
    from roots

    union all

    select
        child.source,
        child.post_id,
        tree.root_post_id,
        tree.depth + 1 as depth,
    from posts as child
    inner join tree
        on child.source = tree.source
        and child.parent_post_id = tree.post_id
    where tree.depth < 500
),

final as (
    select
        posts.*,
        tree.source || ':' || tree.root_post_id as conversation_id,
        tree.root_post_id,
        tree.depth as reply_depth,
        tree.depth = 0 as is_root,
    from tree
    inner join posts
        on tree.source = posts.source
        and tree.post_id = posts.post_id
)

select * from final
