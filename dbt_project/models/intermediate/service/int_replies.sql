{#
    One row per brand reply, everything fct_replies says about it but whether it is templated (a brand-wide
    comparison): which customer post it answered, how long that took (clock and business time), who signed it,
    whether it asks for a handoff or is personalised, and its text masked for the template comparison
    (masked_text: handles, the customer's first name, numbers and the signature masked).

    Incremental per conversation, by the rule fct_conversations uses (macros/incremental_changes.sql): the
    conversations a change touches, those of a CRM customer changed since (their first name), and those built here
    for such a customer (customer_id: a renamed handle takes the conversations of the old one away from them, and
    their replies then look for the handle's first word). Nothing here depends on "now". A brand's new business
    hours: `socialcx transform --full-refresh --select int_replies+`. A reply gone from int_posts_threaded (deleted,
    erased, or moved to another conversation) leaves in the post-hook, which looks among the conversations
    int_posts_threaded rewrote in this build, or every row in a sweep (only_rewritten_conversations; 0.52 s of a 0.1%
    build at 5M posts when it compared every row).
#}
{# no nested loops on PostgreSQL: the same join back to a business-time aggregate as int_conversations_business_time,
   where PostgreSQL guessed 200 groups and looped over every pair (over 26 minutes at 1M posts; a hash join 44 s) #}
{{
    config(
        materialized='incremental',
        unique_key='reply_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=without_nested_loops(),
        post_hook="delete from {{ this }} as built where {{ only_rewritten_conversations('built.conversation_id') }} not exists (select 1 from {{ ref('int_posts_threaded') }} as posts where not posts.is_inbound and posts.source = built.source and posts.post_id = built.reply_post_id and posts.conversation_id = built.conversation_id)"
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

affected as (
    {{ reply_conversations('changes', this) }}
),

{% endif %}
posts as (
    select * from {{ ref('int_posts_threaded') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
    {% endif %}
),

conversations as (
    select * from {{ ref('int_conversations_aggregated') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
    {% endif %}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

facts as (
    select conversation_id, customer_id from {{ ref('fct_conversations') }}
),

changed as (
    -- the newest change among each conversation's posts: the mark the next run starts from
    select conversation_id, max(changed_at) as changed_at
    from posts
    group by conversation_id
),

-- each post's segment: how many brand posts came before it in its conversation. The customer posts of a segment
-- are what the brand post that closes it answers.
segmented as (
    select
        *,
        coalesce(sum(case when not is_inbound then 1 else 0 end) over (
            partition by conversation_id order by created_at, post_id
            rows between unbounded preceding and 1 preceding
        ), 0) as segment
    from posts
),

asked as (
    select
        conversation_id,
        segment,
        {{ arg_min('post_id', 'created_at') }} as answers_post_id,
        min(created_at) as answers_at,
        string_agg(text_redacted, ' ' order by created_at) as customer_text
    from segmented
    where is_inbound
    group by conversation_id, segment
),

replies as (
    select
        segmented.source || ':' || segmented.post_id as reply_key,
        segmented.source,
        segmented.post_id as reply_post_id,
        segmented.conversation_id,
        segmented.brand,
        segmented.created_at as replied_at,
        segmented.text_redacted,
        nullif({{ agent_signature('segmented.text_redacted') }}, '') as agent,
        asked.answers_post_id,
        asked.answers_at,
        asked.customer_text
    from segmented
    left join asked
        on segmented.conversation_id = asked.conversation_id
        and segmented.segment = asked.segment
    where not segmented.is_inbound
),

spans as (
    select
        replies.reply_key,
        replies.answers_at,
        replies.replied_at,
        brands.timezone_name,
        brands.business_open_hour,
        brands.business_close_hour,
        brands.business_days,
        brands.holidays,
        brands.brand,
        cast(null as varchar) as hours_team
    from replies
    inner join brands
        on replies.brand = brands.brand
    where replies.answers_at is not null
),

business as (
    {{ business_seconds('spans', 'reply_key', 'answers_at', 'replied_at') }}
),

-- the customer's first name, to tell a reply that addresses them: the CRM's, else the handle's first word
names as (
    select
        conversations.conversation_id,
        facts.customer_id,
        lower(coalesce(
            nullif({{ regex_group('customers_crm.customer_name', "'^([A-Za-z]{3,})'") }}, ''),
            nullif({{ regex_group('conversations.customer_handle', "'^([A-Za-z]{3,})'") }}, '')
        )) as first_name
    from conversations
    left join facts
        on conversations.conversation_id = facts.conversation_id
    left join {{ ref('stg_raw__customers') }} as customers_crm
        on facts.customer_id = customers_crm.customer_id
),

-- the brand's replies with handles, the customer's name, numbers and signatures masked,
-- compared as sets of word 3-grams (shingles); a reply whose shingles overlap another reply's by a Jaccard index
-- of template_similarity (0.8) or more is templated. Materialized, as `named` below: the next step reads the text
-- (and the pieces) several times, and PostgreSQL, inlining a CTE read once, ran its regular expressions for each
-- (60 s of the model at 1M posts)
unsigned as materialized (
    select
        replies.reply_key,
        replies.brand,
        names.customer_id,
        names.first_name,
        regexp_replace(regexp_replace(
            lower({{ without_signature('replies.text_redacted') }}),
            '@[^[:space:]]+', '@h', 'g'),
            '[0-9]+', '0', 'g') as text
    from replies
    left join names
        on replies.conversation_id = names.conversation_id
),

-- whether the reply says the customer's first name (handles and the signature masked: "@bob" or "-Ana" are no
-- greeting), and its text with the name masked. The text is cut into runs of word characters and runs of others
-- (one constant pattern; the pieces join back into the text): the name is said where a run of word characters is
-- the name, which is what the pattern \bname\b finds. A pattern built from each row's name was compiled per row:
-- 7 s of the model's 20 at 1M posts. Only a text that holds the name at all is cut.
named as materialized (
    select
        *,
        case
            when first_name is not null and strpos(text, first_name) > 0
                then {{ regex_all('text', "'[0-9A-Za-z_]+|[^0-9A-Za-z_]+'") }}
        end as pieces
    from unsigned
),

-- materialized: read twice (the texts to compare, and the replies' rows), it would otherwise be computed twice
masked as materialized (
    select
        reply_key,
        brand,
        customer_id,
        coalesce({{ list_has('pieces', 'first_name') }}, false) as says_name,
        case
            when {{ list_has('pieces', 'first_name') }}
                then {{ join_replacing('pieces', 'first_name', "'name'") }}
            else text
        end as masked_text
    from named
),

final as (
    select
        replies.reply_key,
        replies.source,
        replies.reply_post_id,
        replies.conversation_id,
        replies.brand,
        replies.agent,
        replies.replied_at,
        replies.answers_post_id,
        replies.answers_at,
        {{ dbt.datediff('replies.answers_at', 'replies.replied_at', 'second') }} as response_seconds,
        business.business_seconds as response_business_seconds,
        replies.answers_post_id is not null
            and row_number() over (
                partition by replies.conversation_id, replies.answers_post_id is not null
                order by replies.replied_at, replies.reply_post_id
            ) = 1 as is_first_response,
        case
            when replies.answers_at is null then null
            when {{ dbt.datediff('replies.answers_at', 'replies.replied_at', 'second') }} < 15 * 60 then '0-15 min'
            when {{ dbt.datediff('replies.answers_at', 'replies.replied_at', 'second') }} < 60 * 60 then '15-60 min'
            when {{ dbt.datediff('replies.answers_at', 'replies.replied_at', 'second') }} < 4 * 3600 then '1-4 h'
            when {{ dbt.datediff('replies.answers_at', 'replies.replied_at', 'second') }} < 24 * 3600 then '4-24 h'
            else '24 h+'
        end as response_bucket,
        {{ is_handoff('replies.text_redacted') }} as is_handoff_request,
        -- personalised: addresses the customer by their first name, or restates their issue (two or more content
        -- words of the posts it answers, beyond the words every service reply uses)
        coalesce(masked.says_name, false)
        or {{ shared_content_words('replies.text_redacted', 'replies.customer_text') }} >= 2 as is_personalized,
        masked.masked_text,
        -- the CRM customer whose first name says_name looked for (none: the handle's first word)
        masked.customer_id,
        changed.changed_at
    from replies
    left join business
        on replies.reply_key = business.span_key
    left join masked
        on replies.reply_key = masked.reply_key
    left join changed
        on replies.conversation_id = changed.conversation_id
)

select * from final
