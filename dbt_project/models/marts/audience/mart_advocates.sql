{#
    A brand's advocates: customers who speak well of it in public, and those it turned from unhappy to happy.
    One row per brand and customer (source, author) with at least one positive post or recovered conversation.

    Incremental per person (source, author). A run finds the people something touched since the newest changed_at
    built (less change_margin_minutes), and measures only them:
    - the authors of a changed post (new, edited, re-scored, deleted) and of every customer post in a conversation a
      changed post touched (a late brand reply moves what counts as praise after a reply);
    - the customer posts' authors of every conversation fct_conversations rebuilt since (recovered, answered,
      linked to a CRM customer);
    - the author of a post shared since, or shared by someone whose audience changed since; anyone whose own
      audience changed; the people linked to a CRM customer whose orders or record changed since, and those built
      with a customer whose record changed since or is gone (a record changed or erased leaves no changed post).
    A brand's ranks are then counted again over its rows, measured and kept, and every row whose rank moved is
    written too. A row whose person no longer has a positive post or a recovered conversation with the brand
    (erased by `socialcx forget`, every post deleted) is left out of the ranks and deleted by the post-hook.
    At 1M posts, after a 0.1% run, measuring every person again (110k rows) took 1.7-1.9 s of CPU, measuring the
    touched 0.4-0.6 s (about 100 rows written). changed_at: when anything a row is built from last changed.
#}
{{
    config(
        materialized='incremental',
        unique_key=['brand', 'source', 'author_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_advocates_gone() }}"
    )
}}
{{ require_built_columns(['changed_at']) }}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}, {{ ref('stg_raw__customers') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

affected as (
    select posts.source, posts.author_id
    from {{ ref('stg_raw__posts') }} as posts
    inner join changes on posts.source = changes.source and posts.post_id = changes.post_id
    where posts.is_inbound
    union
    -- the customer posts of the conversations a change touched or fct_conversations rebuilt, and those shared since
    -- or shared by someone whose audience changed since (each set small: one scan of the customer posts meets them)
    select posts.source, posts.author_id
    from {{ ref('fct_posts') }} as posts
    where posts.is_inbound and (
        posts.conversation_id in (
            {{ affected_conversations('changes') }}
            union
            select conversation_id from {{ ref('fct_conversations') }} where changed_at > {{ change_mark() }}
        )
        or (posts.source, posts.post_id) in (
            select source, post_id from {{ ref('stg_raw__post_shares') }} where loaded_at > {{ change_mark() }}
            union
            select shares.source, shares.post_id
            from {{ ref('stg_raw__post_shares') }} as shares
            inner join {{ ref('stg_raw__authors') }} as sharers
                on shares.source = sharers.source and shares.sharer_author_id = sharers.author_id
            where sharers.updated_at > {{ change_mark() }}
        )
    )
    union
    select source, author_id from {{ ref('stg_raw__authors') }} where updated_at > {{ change_mark() }}
    union
    -- the people linked to a CRM customer whose orders or record changed since
    select source, customer_author_id
    from {{ ref('fct_conversations') }}
    where customer_id in (
        select customer_id from {{ ref('stg_raw__orders') }} where updated_at > {{ change_mark() }}
        union
        {{ changed_customers() }}
    )
    union
    -- the people built with a CRM customer whose record changed since or is gone (erased): the link may have moved,
    -- and an erased customer's orders leave nothing behind
    select built.source, built.author_id
    from {{ this }} as built
    where built.customer_id is not null and (
        built.customer_id not in (select customer_id from {{ ref('stg_raw__customers') }})
        or built.customer_id in ({{ changed_customers() }})
    )
),

{% endif %}
posts as (
    select * from {{ ref('fct_posts') }}
    where is_inbound
    {% if is_incremental() %}
        and (source, author_id) in (select source, author_id from affected)
    {% endif %}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    {% if is_incremental() %}
    where (source, customer_author_id) in (select source, author_id from affected)
        or conversation_id in (select conversation_id from posts where sentiment_label = 'positive')
    {% endif %}
),

authors as (
    select * from {{ ref('stg_raw__authors') }}
),

handles as (
    select source, author_id, {{ arg_max('author_handle', 'created_at') }} as handle, max(updated_at) as changed_at
    from {{ ref('stg_raw__posts') }}
    where is_inbound and not is_deleted
    {% if is_incremental() %}
        and (source, author_id) in (select source, author_id from affected)
    {% endif %}
    group by source, author_id
),

-- each post's reach: its author's followers plus those of the people who shared it, where known (only the
-- positive customer posts' shares are read: no other post's reach is counted)
post_sharers as (
    select shares.source, shares.post_id, sum(authors.followers_count) as sharer_followers,
        max(greatest(shares.loaded_at, authors.updated_at)) as changed_at
    from {{ ref('stg_raw__post_shares') }} as shares
    inner join authors
        on shares.source = authors.source
        and shares.sharer_author_id = authors.author_id
    where (shares.source, shares.post_id) in (
        select source, post_id from posts where sentiment_label = 'positive'
    )
    group by shares.source, shares.post_id
),

positive_posts as (
    select
        posts.brand,
        posts.source,
        posts.author_id,
        count(*) as positive_post_count,
        sum(coalesce(authors.followers_count, 0) + coalesce(post_sharers.sharer_followers, 0)) as positive_reach,
        -- praise after a reply: a positive post in a conversation the brand had already answered
        count(*) filter (where posts.created_at > conversations.first_response_at) as praise_after_reply_count,
        max(posts.created_at) as last_positive_post_at,
        max(greatest(posts.changed_at, conversations.changed_at, post_sharers.changed_at)) as changed_at
    from posts
    left join authors
        on posts.source = authors.source
        and posts.author_id = authors.author_id
    left join post_sharers
        on posts.source = post_sharers.source
        and posts.post_id = post_sharers.post_id
    left join conversations
        on posts.conversation_id = conversations.conversation_id
    where posts.sentiment_label = 'positive'
    group by 1, 2, 3
),

-- the people measured: their own conversations (in a run, `conversations` also holds others' conversations in which
-- they posted praise, read above for the praise after a reply)
people_conversations as (
    select * from conversations
    {% if is_incremental() %}
    where (source, customer_author_id) in (select source, author_id from affected)
    {% endif %}
),

recovered as (
    select
        brand,
        source,
        customer_author_id as author_id,
        count(*) as recovered_conversation_count,
        max(changed_at) as changed_at
    from people_conversations
    where is_recovered
    group by 1, 2, 3
),

crm_link as (
    select brand, source, customer_author_id as author_id, max(customer_id) as customer_id, max(changed_at) as changed_at
    from people_conversations
    where customer_id is not null
    group by 1, 2, 3
),

-- the spend of the CRM customers linked to them, not of every customer
spend as (
    select brand, customer_id, sum(amount) as spend, count(*) as order_count, max(updated_at) as changed_at
    from {{ ref('stg_raw__orders') }}
    where customer_id in (select customer_id from crm_link)
    group by 1, 2
),

advocates as (
    select
        coalesce(positive_posts.brand, recovered.brand) as brand,
        coalesce(positive_posts.source, recovered.source) as source,
        coalesce(positive_posts.author_id, recovered.author_id) as author_id,
        coalesce(positive_posts.positive_post_count, 0) as positive_post_count,
        coalesce(positive_posts.positive_reach, 0) as positive_reach,
        coalesce(positive_posts.praise_after_reply_count, 0) as praise_after_reply_count,
        coalesce(recovered.recovered_conversation_count, 0) as recovered_conversation_count,
        positive_posts.last_positive_post_at,
        greatest(positive_posts.changed_at, recovered.changed_at) as changed_at
    from positive_posts
    full outer join recovered
        on positive_posts.brand = recovered.brand
        and positive_posts.source = recovered.source
        and positive_posts.author_id = recovered.author_id
),

scored as (
    select
        advocates.brand,
        advocates.source,
        advocates.author_id,
        advocates.positive_post_count,
        advocates.positive_reach,
        advocates.praise_after_reply_count,
        advocates.recovered_conversation_count,
        advocates.last_positive_post_at,
        handles.handle,
        authors.followers_count,
        crm_link.customer_id,
        spend.spend,
        spend.order_count,
        (
            advocates.positive_post_count
            + {{ number_var('advocate_praise_weight') }} * advocates.praise_after_reply_count
            + {{ number_var('advocate_recovered_weight') }} * advocates.recovered_conversation_count
        ) * (1 + log10(1 + coalesce(authors.followers_count, 0))) as advocate_score,
        -- when anything the row is built from last changed: the incremental build's mark
        greatest(advocates.changed_at, handles.changed_at, authors.updated_at, crm_link.changed_at,
                 spend.changed_at) as changed_at
    from advocates
    left join handles
        on advocates.source = handles.source
        and advocates.author_id = handles.author_id
    left join authors
        on advocates.source = authors.source
        and advocates.author_id = authors.author_id
    left join crm_link
        on advocates.brand = crm_link.brand
        and advocates.source = crm_link.source
        and advocates.author_id = crm_link.author_id
    left join spend
        on advocates.brand = spend.brand
        and crm_link.customer_id = spend.customer_id
),

{%- set measures = ['brand', 'source', 'author_id', 'positive_post_count', 'positive_reach', 'praise_after_reply_count',
                     'recovered_conversation_count', 'last_positive_post_at', 'handle', 'followers_count',
                     'customer_id', 'spend', 'order_count', 'advocate_score', 'changed_at'] %}
{% if is_incremental() %}
-- the rows built of the people not measured, unless they no longer qualify (the post-hook deletes those)
kept as (
    select {% for column in measures %}built.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ this }} as built
    where not exists (
            select 1 from affected where affected.source = built.source and affected.author_id = built.author_id
        )
        and not ({{ advocate_gone('built') }})
),

{% endif %}
ranked as (
    select
        *,
        row_number() over (partition by brand order by advocate_score desc, author_id) as advocate_rank
    from (
        select {{ measures | join(', ') }} from scored
        {% if is_incremental() %}
        union all
        select {{ measures | join(', ') }} from kept
        {% endif %}
    ) as measured
),

final as (
    select {% for column in measures if column != 'changed_at' %}ranked.{{ column }}, {% endfor %}ranked.advocate_rank,
        ranked.changed_at
    from ranked
    {% if is_incremental() %}
    left join {{ this }} as built
        on ranked.brand = built.brand and ranked.source = built.source and ranked.author_id = built.author_id
    -- measured, or ranked anew
    where (ranked.source, ranked.author_id) in (select source, author_id from affected)
        or built.advocate_rank is distinct from ranked.advocate_rank
    {% endif %}
)

select * from final
