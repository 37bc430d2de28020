{#
    The data's own "now", defined once: the newest post in the warehouse (deleted posts excluded). Every "as of"
    of the marts (an unanswered conversation's wait, the backlog's last complete day, the lookback window) and
    the alerts' recent window use this instant, not the wall clock, so a rerun gives the same figures and a late
    file drop is judged by its own data.
#}
with posts as (
    select * from {{ ref('int_posts_enriched') }}
),

final as (
    select max(created_at) as as_of_at from posts
)

select * from final
