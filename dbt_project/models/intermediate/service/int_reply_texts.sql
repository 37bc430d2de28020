{#
    One row per brand and distinct masked reply text (int_replies' masked_text): how many replies use it, its word
    3-grams (shingles), how many other live texts of the brand are similar to it (a Jaccard index of the shingles
    of template_similarity or more), and so whether it is templated: used by two replies or more, or similar to
    another text. fct_replies reads is_templated from here. Definitions: _service__models.yml and DECISIONLOG.md.

    Incremental, so that a run compares what it brings rather than every pair of a brand's texts (at 5M posts that
    comparison was 183 s of a 0.1% run, and grew with the square of the texts). The similarity of two texts depends
    on the two texts alone, so a run compares only its search set, the texts new since the last build and those no
    reply uses any more, against every text it knows:
    - a new text counts its similar live texts;
    - a text already here gains one for each similar new text and loses one for each similar text gone;
    - a text no reply uses is written with uses 0 (its partners have been told), and the post-hook deletes it.
    A full refresh is the same query with nothing built before: every text is new and compared with every other.
#}
{{
    config(
        materialized='incremental',
        unique_key=['brand', 'masked_text'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=without_nested_loops(),
        post_hook="delete from {{ this }} where uses = 0"
    )
}}

with current_texts as (
    select brand, masked_text, count(*) as uses
    from {{ ref('int_replies') }}
    -- a reply with no brand has no brand's templates to match (fct_replies: not templated)
    where masked_text is not null and brand is not null
    group by brand, masked_text
),

previous as (
    {% if is_incremental() %}
    select brand, masked_text, uses, shingle_set, shingle_count, similar_texts
    from {{ this }}
    {% else %}
    select
        cast(null as varchar) as brand,
        cast(null as varchar) as masked_text,
        cast(null as bigint) as uses,
        {{ empty_list('varchar') }} as shingle_set,
        cast(null as bigint) as shingle_count,
        cast(null as bigint) as similar_texts
    where 1 = 0
    {% endif %}
),

new_words as (
    select current_texts.brand, current_texts.masked_text, current_texts.uses,
        {{ regex_all('current_texts.masked_text', "'[a-z0@'']+'") }} as words
    from current_texts
    where not exists (
        select 1 from previous
        where previous.brand = current_texts.brand and previous.masked_text = current_texts.masked_text
    )
),

-- every text this run knows: those built before (with today's uses, 0 when no reply uses them any more) and the new
-- ones. is_searched: new or gone, the texts whose similar partners this run counts.
known as (
    select
        previous.brand,
        previous.masked_text,
        coalesce(current_texts.uses, 0) as uses,
        previous.uses as previous_uses,
        previous.shingle_set,
        previous.shingle_count,
        previous.similar_texts,
        false as is_new
    from previous
    left join current_texts
        on previous.brand = current_texts.brand
        and previous.masked_text = current_texts.masked_text
    union all
    select brand, masked_text, uses, 0, shingle_set, {{ list_length('shingle_set') }}, 0, true
    from (select brand, masked_text, uses, {{ word_trigrams('words') }} as shingle_set from new_words) as shingled
),

-- each text gets a number, so that the pairs below are joined, sorted and grouped on integers rather than on whole
-- texts (grouping 5M rows by two texts was half of the template comparison at 1M posts on PostgreSQL)
texts as materialized (
    select
        *,
        is_new or uses = 0 as is_searched,
        row_number() over (order by brand, masked_text) as text_id
    from known
),

-- materialized: its shingles are ranked for the prefixes and joined again to count what each pair shares
exploded as materialized (
    select brand, text_id, shingle_count, is_searched, unnest(shingle_set) as shingle
    from texts
),

-- which pairs to compare: prefix filtering (Chaudhuri, Ganti and Kaushik 2006; Bayardo, Ma and Srikant 2007),
-- exact, not an approximation. Order each brand's shingles rarest first (the same order for every text of the
-- run); two sets with a Jaccard index of at least t share a shingle among the first n - ceil(t * n) + 1 of each
-- (n: the set's size). Comparing every pair that shares any shingle compared a common phrase's every pair of
-- replies ("sorry to hear": 101 s at 1M posts).
shingle_frequency as (
    select brand, shingle, count(*) as texts_with_shingle
    from exploded
    group by brand, shingle
),

-- the searched texts' prefixes first: a text can pair with a searched one only if it has one of those shingles, so
-- only such texts are ranked below (ranking every text's shingles was most of an incremental run's comparison:
-- 2.5M shingles sorted twice at 5M posts, for the 1,000 texts a 0.1% run brings)
{%- set ranked_rarest_first %}
        row_number() over (
            partition by exploded.text_id order by shingle_frequency.texts_with_shingle, exploded.shingle
        ) as shingle_rank
    from exploded
    inner join shingle_frequency
        on exploded.brand = shingle_frequency.brand and exploded.shingle = shingle_frequency.shingle
{%- endset %}
{#- ceil(t * n - 1e-9): a float product just above a whole number (0.8 * 5) must not shorten the prefix #}
{%- set in_prefix = "shingle_rank <= shingle_count - ceil(" ~ number_var('template_similarity')
                    ~ " * shingle_count - 1e-9) + 1" %}
searched_prefix_shingles as (
    select distinct brand, shingle
    from (
        select exploded.brand, exploded.shingle, exploded.shingle_count, {{ ranked_rarest_first }}
        where exploded.is_searched
    ) as searched
    where {{ in_prefix }}
),

pairable as (
    select distinct exploded.text_id
    from exploded
    inner join searched_prefix_shingles
        on exploded.brand = searched_prefix_shingles.brand and exploded.shingle = searched_prefix_shingles.shingle
),

ranked_shingles as (
    select exploded.*, {{ ranked_rarest_first }}
    where exploded.text_id in (select text_id from pairable)
),

prefixes as (
    select brand, text_id, shingle_count, is_searched, shingle, shingle_rank
    from ranked_shingles
    where {{ in_prefix }}
),

-- a searched text (a) against every other text (b); two searched texts once (a before b), turned both ways below
prefix_matches as (
    select
        a.text_id as a_id,
        b.text_id as b_id,
        count(*) as prefix_shared,
        max(a.shingle_rank) as a_last,
        max(b.shingle_rank) as b_last,
        {{ any_value('a.shingle_count') }} as a_count,
        {{ any_value('b.shingle_count') }} as b_count
    from prefixes as a
    inner join prefixes as b
        on a.brand = b.brand
        and a.shingle = b.shingle
        and a.text_id <> b.text_id
    where a.is_searched
        and (not b.is_searched or a.text_id < b.text_id)
        -- sizes too far apart cannot reach t: |small| >= t * |large|
        and least(a.shingle_count, b.shingle_count)
            >= {{ number_var('template_similarity') }} * greatest(a.shingle_count, b.shingle_count) - 1e-9
    group by a.text_id, b.text_id
),

-- positional filtering (Xiao, Wang, Lin and Yu 2008, ppjoin), exact too: every shingle the two share that comes
-- before the last one matched in the prefixes has been matched, so they share at most prefix_shared plus what
-- follows in the shorter remainder; a Jaccard index of t needs ceil(t / (1 + t) * (|a| + |b|)) shared shingles
candidates as (
    select a_id, b_id, a_count, b_count
    from prefix_matches
    where prefix_shared + least(a_count - a_last, b_count - b_last)
        >= ceil({{ number_var('template_similarity') }} / (1 + {{ number_var('template_similarity') }}) * (a_count + b_count) - 1e-9)
),

-- the candidates' shared shingles: each candidate with a's shingles first, then matched to b's (PostgreSQL, left to
-- pick the order, joined every two texts sharing any shingle first: 68M rows at 1M posts)
candidate_shingles as materialized (
    select candidates.a_id, candidates.b_id, candidates.a_count, candidates.b_count, a.shingle
    from candidates
    inner join exploded as a
        on candidates.a_id = a.text_id
),

similar_pairs as (
    select candidate_shingles.a_id, candidate_shingles.b_id
    from candidate_shingles
    inner join exploded as b
        on candidate_shingles.b_id = b.text_id
        and candidate_shingles.shingle = b.shingle
    group by candidate_shingles.a_id, candidate_shingles.b_id, candidate_shingles.a_count, candidate_shingles.b_count
    having cast(count(*) as double precision) / (candidate_shingles.a_count + candidate_shingles.b_count - count(*))
        >= {{ number_var('template_similarity') }}
),

-- each pair from each side that counts it: the searched text's side, and the other's when it was searched too
directed_pairs as (
    select a_id, b_id from similar_pairs
    union all
    select similar_pairs.b_id, similar_pairs.a_id
    from similar_pairs
    inner join texts on similar_pairs.b_id = texts.text_id
    where texts.is_searched
),

-- what the search set changes: a known live text gains one for each similar new text and loses one for each
-- similar text gone; a new text counts its similar live texts (new ones among them) from its own side
partner_counts as (
    select directed_pairs.b_id as text_id, sum(case when a.is_new then 1 else -1 end) as partner_change
    from directed_pairs
    inner join texts as a on directed_pairs.a_id = a.text_id
    inner join texts as b on directed_pairs.b_id = b.text_id
    where not b.is_new and b.uses > 0
    group by directed_pairs.b_id
),

own_counts as (
    select directed_pairs.a_id as text_id, count(*) as similar_live
    from directed_pairs
    inner join texts as b on directed_pairs.b_id = b.text_id
    where b.uses > 0
    group by directed_pairs.a_id
),

counted as (
    select
        texts.*,
        case
            when texts.is_new then coalesce(own_counts.similar_live, 0)
            when texts.uses = 0 then 0
            else texts.similar_texts + coalesce(partner_counts.partner_change, 0)
        end as new_similar_texts,
        coalesce(partner_counts.partner_change, 0) as partner_change
    from texts
    left join own_counts on texts.text_id = own_counts.text_id
    left join partner_counts on texts.text_id = partner_counts.text_id
),

final as (
    select
        brand,
        masked_text,
        uses,
        shingle_set,
        shingle_count,
        new_similar_texts as similar_texts,
        uses >= 2 or new_similar_texts >= 1 as is_templated
    from counted
    -- what changed: new texts, texts gone (deleted by the post-hook), and texts whose uses or partners changed
    where is_searched or uses <> previous_uses or partner_change <> 0
)

select * from final
