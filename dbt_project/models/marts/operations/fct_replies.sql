{#
    One row per brand reply in a conversation: which customer post it answered, how long that took (clock and
    business time), who signed it, and how it was written (a handoff request, templated, personalised).
    Definitions and their reasons: _operations__models.yml and DECISIONLOG.md.
#}
{# no nested loops on PostgreSQL: the same join back to a business-time aggregate as int_conversations_business_time,
   where PostgreSQL guessed 200 groups and looped over every pair (over 26 minutes at 1M posts; a hash join 44 s) #}
{{ config(pre_hook=without_nested_loops()) }}

with posts as (
    select * from {{ ref('int_posts_threaded') }}
),

conversations as (
    select * from {{ ref('int_conversations_aggregated') }}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

facts as (
    select conversation_id, customer_id from {{ ref('fct_conversations') }}
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

-- templated replies: the brand's replies with handles, the customer's name, numbers and signatures masked,
-- compared as sets of word 3-grams (shingles); a reply whose shingles overlap another reply's by a Jaccard index
-- of template_similarity (0.8) or more is templated. Materialized, as `named` below: the next step reads the text
-- (and the pieces) several times, and PostgreSQL, inlining a CTE read once, ran its regular expressions for each
-- (60 s of the model at 1M posts)
unsigned as materialized (
    select
        replies.reply_key,
        replies.brand,
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
        coalesce({{ list_has('pieces', 'first_name') }}, false) as says_name,
        case
            when {{ list_has('pieces', 'first_name') }}
                then {{ join_replacing('pieces', 'first_name', "'name'") }}
            else text
        end as masked_text
    from named
),

shingled as (
    select
        brand,
        masked_text,
        count(*) as uses,
        {{ regex_all('masked_text', "'[a-z0@'']+'") }} as words
    from masked
    group by brand, masked_text
),

-- each distinct text gets a number, so that the pairs below are joined, sorted and grouped on integers rather than
-- on whole replies (grouping 5M rows by two texts was half of the model at 1M posts on PostgreSQL)
shingles as materialized (
    select
        brand,
        masked_text,
        uses,
        row_number() over (order by brand, masked_text) as text_id,
        {{ word_trigrams('words') }} as shingle_set
    from shingled
),

-- materialized: its shingles are ranked for the prefixes and joined again to count what each pair shares
exploded as materialized (
    select brand, text_id, {{ list_length('shingle_set') }} as shingle_count, unnest(shingle_set) as shingle
    from shingles
),

-- which pairs to compare: prefix filtering (Chaudhuri, Ganti and Kaushik 2006; Bayardo, Ma and Srikant 2007),
-- exact, not an approximation. Order each brand's shingles rarest first; two sets with a Jaccard index of at least
-- t share a shingle among the first n - ceil(t * n) + 1 of each (n: the set's size). Comparing every pair that
-- shares any shingle compared a common phrase's every pair of replies ("sorry to hear": 101 s at 1M posts).
shingle_frequency as (
    select *, count(*) over (partition by brand, shingle) as texts_with_shingle
    from exploded
),

ranked_shingles as (
    select
        *,
        row_number() over (partition by text_id order by texts_with_shingle, shingle) as shingle_rank
    from shingle_frequency
),

prefixes as (
    -- ceil(t * n - 1e-9): a float product just above a whole number (0.8 * 5) must not shorten the prefix
    select brand, text_id, shingle_count, shingle
    from ranked_shingles
    where shingle_rank <= shingle_count - ceil({{ var('template_similarity') }} * shingle_count - 1e-9) + 1
),

candidates as (
    select distinct a.brand, a.text_id as a_id, b.text_id as b_id
    from prefixes as a
    inner join prefixes as b
        on a.brand = b.brand
        and a.shingle = b.shingle
        and a.text_id < b.text_id
    -- sizes too far apart cannot reach t: |small| >= t * |large|
    where least(a.shingle_count, b.shingle_count) >= {{ var('template_similarity') }} * greatest(a.shingle_count, b.shingle_count) - 1e-9
),

-- the candidates' shared shingles: each candidate with a's shingles first, then matched to b's (PostgreSQL, left to
-- pick the order, joined every two texts sharing any shingle first: 68M rows at 1M posts)
candidate_shingles as materialized (
    select candidates.a_id, candidates.b_id, a.shingle, a.shingle_count as a_count
    from candidates
    inner join exploded as a
        on candidates.a_id = a.text_id
),

pairs as (
    select
        candidate_shingles.a_id,
        candidate_shingles.b_id,
        count(*) as shared,
        {{ any_value('candidate_shingles.a_count') }} as a_count,
        {{ any_value('b.shingle_count') }} as b_count
    from candidate_shingles
    inner join exploded as b
        on candidate_shingles.b_id = b.text_id
        and candidate_shingles.shingle = b.shingle
    group by candidate_shingles.a_id, candidate_shingles.b_id
),

templated_ids as (
    select a_id as text_id from pairs
    where cast(shared as double precision) / (a_count + b_count - shared) >= {{ var('template_similarity') }}
    union
    select b_id from pairs
    where cast(shared as double precision) / (a_count + b_count - shared) >= {{ var('template_similarity') }}
    union
    select text_id from shingles where uses >= 2
),

templated_texts as (
    select shingles.brand, shingles.masked_text
    from shingles
    where shingles.text_id in (select text_id from templated_ids)
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
        templated_texts.masked_text is not null as is_templated,
        -- personalised: addresses the customer by their first name, or restates their issue (two or more content
        -- words of the posts it answers, beyond the words every service reply uses)
        coalesce(masked.says_name, false)
        or {{ shared_content_words('replies.text_redacted', 'replies.customer_text') }} >= 2 as is_personalized
    from replies
    left join business
        on replies.reply_key = business.span_key
    left join masked
        on replies.reply_key = masked.reply_key
    left join templated_texts
        on masked.brand = templated_texts.brand
        and masked.masked_text = templated_texts.masked_text
)

select * from final
