{#
    Assigns every post to the conversation it belongs to, by walking reply chains down from their roots.
    A root is a customer post that replies to no one, whose parent is not in the data, or whose parent
    is a brand's broadcast (a brand post that itself replies to no one). Brand broadcasts and posts
    that hang off no root belong to no conversation and are left out.

    Incremental: only the conversations a change touches are walked again (walking all of them cost 4 s at 1M
    posts every hour). The pre-hook notes their roots at the last build and deletes their rows; the model
    then walks down from every post that is a root today among those roots, the changed posts, their replies
    and their ancestors. A post that left every conversation (its root was deleted and it is a brand reply)
    is simply not written again. The roots of erased posts' conversations (gone from raw with no change left) are
    looked for by comparing every row, only when sweep_due() (0.3-0.4 s of a 0.1% build at 5M). The conversations it
    rewrites go to ops.threaded_rewritten (their ids before, in a pre-hook, and after, in a post-hook), with the
    build's invocation, for the models downstream that look for conversations changed or gone (noted_conversations);
    a build from scratch notes that it rewrote every conversation. The posts it starts
    from and the walk are temporary tables the last pre-hooks write, so that DuckDB knows how few posts each holds
    when it joins them with their parents and their columns.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %} drop table if exists _threaded_changes {% endif %}",
            "{% if is_incremental() %} create temp table _threaded_changes as {{ changed_posts() }} {% endif %}",
            "{% if is_incremental() %} drop table if exists _threaded_old_roots {% endif %}",
            "{% if is_incremental() %} create temp table _threaded_old_roots as
                select distinct built.source, built.root_post_id as post_id
                from {{ this }} as built
                where built.conversation_id in ({{ affected_conversations('_threaded_changes', this) }})
                {% if sweep_due() %}
                union
                -- erased posts (socialcx forget) are gone from raw, so in no change: their conversations too
                select built.source, built.root_post_id
                from {{ this }} as built
                where not exists (
                    select 1 from {{ ref('int_posts_enriched') }} as posts
                    where built.source = posts.source and built.post_id = posts.post_id)
                {% endif %} {% endif %}",
            "create schema if not exists ops",
            "create table if not exists {{ threaded_rewritten() }} (invocation_id varchar, conversation_id varchar)",
            "{% if is_incremental() and sweep_due() %} delete from {{ threaded_rewritten() }} {% endif %}",
            "{% if is_incremental() %} insert into {{ threaded_rewritten() }}
                select distinct '{{ invocation_id }}', conversation_id
                from {{ this }}
                where {% if sweep_due() %} false {% else %}
                    (source, root_post_id) in (select source, post_id from _threaded_old_roots) {% endif %}
                union all
                select '{{ invocation_id }}', cast(null as varchar) {% endif %}",
            "{% if is_incremental() %} delete from {{ this }}
                where (source, root_post_id) in (select source, post_id from _threaded_old_roots) {% endif %}",
            "{% if is_incremental() %} drop table if exists _threaded_candidates {% endif %}",
            "{% if is_incremental() %} create temp table _threaded_candidates as {{ thread_candidates() }} {% endif %}",
            "{% if is_incremental() %} drop table if exists _threaded_tree {% endif %}",
            "{% if is_incremental() %} create temp table _threaded_tree as {{ thread_walk() }} {% endif %}",
        ],
        post_hook=[
            "{% if is_incremental() and not sweep_due() %} insert into {{ threaded_rewritten() }}
                select distinct '{{ invocation_id }}', source || ':' || root_post_id from _threaded_tree {% endif %}",
            "{% if not is_incremental() %} insert into {{ threaded_rewritten() }}
                values ('{{ invocation_id }}', '{{ every_conversation_rewritten() }}') {% endif %}",
        ]
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}

-- the walk (macros/threading.sql). In an incremental build, as the pre-hook wrote it: a table whose size DuckDB knows,
-- so the join below hashes the walked posts (1,000 in a 0.1% run). A recursive CTE's size it guesses (20M rows at 1M
-- posts): it hashed every post with its text instead, 0.3-0.5 s of the model's 0.5 s at 1M
{% if is_incremental() %}
with tree as (
    select * from _threaded_tree
),
{% else %}
with tree as (
    {{ thread_walk() }}
),
{% endif %}

-- the posts' columns from the table, not the walk's CTE: it would be hashed whole, text and all (2.4-4.6 s against
-- 0.6-0.8 s at 1M posts)
final as (
    select
        posts.*,
        tree.source || ':' || tree.root_post_id as conversation_id,
        tree.root_post_id,
        tree.depth as reply_depth,
        tree.depth = 0 as is_root
    from tree
    inner join {{ ref('int_posts_enriched') }} as posts
        on tree.source = posts.source
        and tree.post_id = posts.post_id
)

select * from final
