{#
    One row per NPS answer, with who answered (the CRM customer and their social account, where known), what the
    comment is about, and how the brand treated them on social media in the nps_social_window_days before.

    Incremental per respondent. A run finds the answers something touched since the newest changed_at built (less
    change_margin_minutes), then computes every answer of the same respondents to the same brands again (an answer's
    next_score reads the respondent's other answers):
    - answers new since (answers are never changed in place: a re-delivery with other content is quarantined), whose
      comment was annotated since, or whose e-mail digest a new answer shares (the digest's first answer names it);
    - answers a CRM record changed since may link otherwise (its id, handle or e-mail digest);
    - answers linked, now or as built, to a CRM customer whose record changed since, who shares a handle with one
      (the lowest id holds a handle), who is gone (erased), or whose conversations fct_conversations rebuilt since;
    - answers linked, now or as built, to a social account that posted since or whose conversations were rebuilt
      since, or whose handle was posted under since (a handle's account is the newest poster's).
    Who answered (the CRM customer, the social account, the respondent) is worked out again for the touched answers
    only: nothing another answer is linked by changed, so its links are as built. Of the answers computed, only the
    rows that differ from the ones built are written. At 1M posts (242k answers), after a 0.1%
    run, the node took 1.8-2.1 s computing every answer and 0.5-0.7 s now (benchmarks/README.md, session 37). The
    post-hook deletes the answers gone from raw (erased by `socialcx forget`, which also rebuilds this model whole:
    an erased post leaves no change behind). changed_at: when anything a row is built from last changed (the answer,
    its comment, its CRM record, its conversations, the respondent's next answer). A new window
    (nps_social_window_days): `socialcx transform --full-refresh --select fct_survey_responses+`.
#}
{{
    config(
        materialized='incremental',
        unique_key='response_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} as built where not exists (select 1 from {{ ref('stg_raw__survey_responses') }} as responses where responses.source = built.source and responses.response_id = built.response_id)"
    )
}}
{{ require_built_columns(['changed_at']) }}

-- depends_on: {{ ref('stg_raw__posts') }}

with responses as (
    select * from {{ ref('stg_raw__survey_responses') }}
),

customers as (
    -- a handle or an e-mail digest links to one customer: when a CRM holds it twice, the lowest customer_id wins
    select * from {{ ref('stg_raw__customers') }}
),

{% if is_incremental() %}
changed_conversations as (
    select customer_author_id, customer_id
    from {{ ref('fct_conversations') }}
    where changed_at > {{ change_mark() }}
),

changed_posts as (
    select author_id, lower(author_handle) as handle
    from {{ ref('stg_raw__posts') }}
    where is_inbound and updated_at > {{ change_mark() }}
),

changed_customers as (
    {{ changed_customers() }}
),

-- the handles a changed CRM record holds, or posted under since: which customer (the lowest id) and which account
-- (the newest poster) a handle links to may have moved
touched_handles as (
    select lower(social_handle) as handle from customers where customer_id in (select customer_id from changed_customers)
    union
    select handle from changed_posts
),

touched_customers as (
    select customer_id from changed_conversations where customer_id is not null
    union
    select customer_id from changed_customers
    union
    -- those holding such a handle: whose conversations they are may have moved
    select customer_id from customers where lower(social_handle) in (select handle from touched_handles)
),

touched_authors as (
    select customer_author_id as author_id from changed_conversations
    union
    select author_id from changed_posts
),

touched as (
    -- new answers, those a new answer shares its e-mail digest with, and those a changed CRM record or a handle
    -- posted under since may link otherwise
    select source, response_id
    from responses
    where ingested_at > {{ change_mark() }}
        or email_hash in (select email_hash from responses where ingested_at > {{ change_mark() }})
        or respondent_id in (select customer_id from changed_customers)
        or lower(social_handle) in (select handle from touched_handles)
        or email_hash in (
            select email_hash from customers where customer_id in (select customer_id from changed_customers)
        )
    union
    -- comments annotated since
    select source, response_id from {{ ref('stg_enriched__survey_nlp') }} where enriched_at > {{ change_mark() }}
    union
    -- as built: linked to a customer or an account touched since, or to a customer gone (erased)
    select source, response_id
    from {{ this }} as built
    where built.customer_id in (select customer_id from touched_customers)
        or built.customer_id not in (select customer_id from customers)
        or built.author_id in (select author_id from touched_authors)
),

{% endif %}
-- the answers whose links are worked out: every answer in a full build, the touched ones in a run
linking as (
    select * from responses
    {% if is_incremental() %}
    where (source, response_id) in (select source, response_id from touched)
    {% endif %}
),

by_handle as (
    select lower(social_handle) as handle, min(customer_id) as customer_id
    from customers
    where social_handle is not null
    group by 1
),

by_email as (
    select email_hash, min(customer_id) as customer_id
    from customers
    where email_hash is not null
    group by 1
),

identified as (
    select
        linking.*,
        coalesce(by_id.customer_id, by_handle.customer_id, by_email.customer_id) as customer_id,
        case
            when by_id.customer_id is not null then 'respondent_id'
            when by_handle.customer_id is not null then 'social_handle'
            when by_email.customer_id is not null then 'email'
        end as customer_matched_by,
        coalesce(linking.social_handle, crm.social_handle) as known_handle,
        crm.updated_at as customer_changed_at
    from linking
    left join customers as by_id
        on linking.respondent_id = by_id.customer_id
    left join by_handle
        on lower(linking.social_handle) = by_handle.handle
    left join by_email
        on linking.email_hash = by_email.email_hash
    left join customers as crm
        on crm.customer_id = coalesce(by_id.customer_id, by_handle.customer_id, by_email.customer_id)
),

authors as (
    -- a social account by its handle: the author of the newest customer post under it
    select lower(author_handle) as handle, {{ arg_max('author_id', 'created_at') }} as author_id
    from {{ ref('stg_raw__posts') }}
    where is_inbound and author_handle is not null
    {% if is_incremental() %}
        and lower(author_handle) in (select lower(known_handle) from identified)
    {% endif %}
    group by 1
),

linked as (
    select identified.*, authors.author_id
    from identified
    left join authors
        on lower(identified.known_handle) = authors.handle
),

-- an e-mail digest's first answer, which names the person when nothing else does: grouped, not a window over every
-- answer (whose partition of answers without a digest was one, sorted: 0.2-0.35 s of the model's 1.0 s at 1M posts)
email_first as (
    select email_hash, min(source || ':' || response_id) as first_response
    from responses
    where email_hash is not null
    {% if is_incremental() %}
        and email_hash in (select email_hash from linked)
    {% endif %}
    group by 1
),

keyed as (
    -- one person across answers: the CRM customer, else the social account, else the handle, else the e-mail
    -- digest (named by its first answer: the digest itself is never published), else the answer alone
    select
        linked.source, linked.response_id, linked.brand, linked.score, linked.responded_at, linked.touchpoint,
        linked.ingested_at, linked.customer_id, linked.customer_matched_by, linked.author_id,
        coalesce('customer:' || linked.customer_id, 'author:' || linked.author_id,
                 'handle:' || lower(linked.social_handle),
                 'email-respondent:' || email_first.first_response,
                 'response:' || linked.response_id) as respondent_key,
        linked.customer_changed_at
    from linked
    left join email_first
        on linked.email_hash = email_first.email_hash
),

{% if is_incremental() %}
-- the touched answers' respondents, as they are now and as built
touched_respondents as (
    select brand, respondent_key from keyed
    union
    select brand, respondent_key from {{ this }} where (source, response_id) in (select source, response_id from touched)
),

-- their other answers: nothing these are linked by changed (they would be touched), so their links are as built
members as (
    select
        responses.source, responses.response_id, responses.brand, responses.score, responses.responded_at,
        responses.touchpoint, responses.ingested_at, built.customer_id, built.customer_matched_by, built.author_id,
        built.respondent_key, crm.updated_at as customer_changed_at
    from {{ this }} as built
    inner join responses
        on built.source = responses.source
        and built.response_id = responses.response_id
    left join customers as crm
        on built.customer_id = crm.customer_id
    where (built.brand, built.respondent_key) in (select brand, respondent_key from touched_respondents)
        and (built.source, built.response_id) not in (select source, response_id from touched)
),

{% endif %}
selected as (
    select * from keyed
    {% if is_incremental() %}
    union all
    select * from members
    {% endif %}
),

comments as (
    select * from {{ ref('stg_enriched__survey_nlp') }}
    {% if is_incremental() %}
    where (source, response_id) in (select source, response_id from selected)
    {% endif %}
),

-- the respondent's conversations with the brand on social media before the answer, within the window: by the
-- social account or by the CRM customer. Two equi-joins and a union, not one join on OR: DuckDB hashes these,
-- a join on OR compared every answer with every conversation of the brand (184 s at 1M posts)
{% set within_window %}
        and lower(conversations.brand) = lower(selected.brand)
        and conversations.first_inbound_at <= selected.responded_at
        and conversations.first_inbound_at > selected.responded_at - {{ number_var('nps_social_window_days') }} * interval '1 day'
{% endset %}
social_conversations as (
    {%- for conversation_key, respondent_key in [('customer_author_id', 'author_id'), ('customer_id', 'customer_id')] %}
    {% if not loop.first %}union{% endif %}
    select selected.source, selected.response_id, conversations.conversation_id, conversations.service_experience,
           conversations.is_recovered, conversations.first_inbound_at, conversations.changed_at
    from selected
    inner join (
        select * from {{ ref('fct_conversations') }}
        {% if is_incremental() %}
        -- a run's few respondents: their conversations picked first, not every conversation hashed for them
        where {{ conversation_key }} in (select {{ respondent_key }} from selected)
        {% endif %}
    ) as conversations
        on conversations.{{ conversation_key }} = selected.{{ respondent_key }} {{ within_window }}
    {%- endfor %}
),

-- the last of them decides the experience (two opened in the same second: the greater conversation_id, so a
-- rebuild gives the same answer)
last_conversation as (
    select
        source,
        response_id,
        {{ arg_max('service_experience', '(first_inbound_at, conversation_id)') }} as social_experience,
        {{ arg_max('is_recovered', '(first_inbound_at, conversation_id)') }} as was_recovered_on_social,
        count(*) as social_conversations,
        max(changed_at) as changed_at
    from social_conversations
    group by 1, 2
),

-- the same person's next answer to the same brand: did a detractor come round?
next_answers as (
    select
        source,
        response_id,
        lead(score) over answers as next_score,
        lead(responded_at) over answers as next_responded_at,
        lead(ingested_at) over answers as next_ingested_at
    from selected
    window answers as (partition by brand, respondent_key order by responded_at, response_id)
),

final as (
    select
        selected.source || ':' || selected.response_id as response_key,
        selected.source,
        selected.response_id,
        selected.brand,
        selected.customer_id,
        selected.customer_matched_by,
        selected.author_id,
        selected.respondent_key,
        selected.score,
        case
            when selected.score >= 9 then 'promoter'
            when selected.score >= 7 then 'passive'
            else 'detractor'
        end as nps_group,
        selected.responded_at,
        date_trunc('month', selected.responded_at)::date as period_month,
        coalesce(selected.touchpoint, 'unknown') as touchpoint,
        comments.comment_redacted,
        comments.comment_sentiment,
        comments.comment_categories,
        comments.comment_category,
        coalesce(last_conversation.social_experience, 'no social contact') as social_experience,
        coalesce(last_conversation.was_recovered_on_social, false) as was_recovered_on_social,
        coalesce(last_conversation.social_conversations, 0) as social_conversations,
        next_answers.next_score,
        next_answers.next_responded_at,
        greatest(selected.ingested_at, comments.enriched_at, selected.customer_changed_at, last_conversation.changed_at,
                 next_answers.next_ingested_at) as changed_at
    from selected
    inner join next_answers
        on selected.source = next_answers.source
        and selected.response_id = next_answers.response_id
    left join comments
        on selected.source = comments.source
        and selected.response_id = comments.response_id
    left join last_conversation
        on selected.source = last_conversation.source
        and selected.response_id = last_conversation.response_id
)

select * from final
{% if is_incremental() %}
-- of the respondents computed, the rows that differ from the built ones, column by column (nulls equal nulls)
except
select * from {{ this }} where (brand, respondent_key) in (select brand, respondent_key from touched_respondents)
{% endif %}
