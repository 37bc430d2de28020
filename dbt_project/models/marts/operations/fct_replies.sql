{#
    One row per brand reply in a conversation: which customer post it answered, how long that took (clock and
    business time), who signed it, and how it was written (a handoff request, templated, personalised).
    Definitions and their reasons: _operations__models.yml and DECISIONLOG.md.

    Everything per reply comes from int_replies (incremental per conversation); this model adds whether each reply
    is templated, which compares every reply of a brand with every other: a new reply can make an old one
    templated, so the comparison runs on every distinct masked text, and the table is rewritten.
#}
{{ config(pre_hook=without_nested_loops()) }}

with replies as (
    select * from {{ ref('int_replies') }}
),

-- templated replies: a reply whose masked text's word 3-grams (shingles) overlap another reply's of the same brand
-- by a Jaccard index of template_similarity (0.8) or more, or whose masked text another reply uses too
shingled as (
    select
        brand,
        masked_text,
        count(*) as uses,
        {{ regex_all('masked_text', "'[a-z0@'']+'") }} as words
    from replies
    where masked_text is not null
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
        replies.response_seconds,
        replies.response_business_seconds,
        replies.is_first_response,
        replies.response_bucket,
        replies.is_handoff_request,
        templated_texts.masked_text is not null as is_templated,
        replies.is_personalized
    from replies
    left join templated_texts
        on replies.brand = templated_texts.brand
        and replies.masked_text = templated_texts.masked_text
)

select * from final
