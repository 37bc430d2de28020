{#
    One row per NPS answer, with who answered (the CRM customer and their social account, where known), what the
    comment is about, and how the brand treated them on social media in the nps_social_window_days before.

    Incremental by difference: every answer is computed as a full build computes it, and only the rows that differ
    from the ones built are written (an answer new, or changed by a later answer of the same person, a CRM record,
    a post or a conversation). What an answer reads is spread over the CRM, every post of its handle and the
    conversations of its window; a mark of change would have to follow each of them, and a conversation that
    disappears leaves no change behind, so the comparison is what keeps every row exact. Computing is most of the
    cost: at 5M posts (242k answers) 1.6-2.3 s against 2.0-2.4 s for the table written whole. The post-hook
    deletes the answers gone from raw (erased by `socialcx forget`).
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

with responses as (
    select * from {{ ref('stg_raw__survey_responses') }}
),

comments as (
    select * from {{ ref('stg_enriched__survey_nlp') }}
),

customers as (
    -- a handle or an e-mail digest links to one customer: when a CRM holds it twice, the lowest customer_id wins
    select * from {{ ref('stg_raw__customers') }}
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

authors as (
    -- a social account by its handle: the author of the newest customer post under it
    select lower(author_handle) as handle, {{ arg_max('author_id', 'created_at') }} as author_id
    from {{ ref('stg_raw__posts') }}
    where is_inbound and author_handle is not null
    group by 1
),

identified as (
    select
        responses.*,
        coalesce(by_id.customer_id, by_handle.customer_id, by_email.customer_id) as customer_id,
        case
            when by_id.customer_id is not null then 'respondent_id'
            when by_handle.customer_id is not null then 'social_handle'
            when by_email.customer_id is not null then 'email'
        end as customer_matched_by,
        coalesce(responses.social_handle, crm.social_handle) as known_handle
    from responses
    left join customers as by_id
        on responses.respondent_id = by_id.customer_id
    left join by_handle
        on lower(responses.social_handle) = by_handle.handle
    left join by_email
        on responses.email_hash = by_email.email_hash
    left join customers as crm
        on crm.customer_id = coalesce(by_id.customer_id, by_handle.customer_id, by_email.customer_id)
),

linked as (
    select identified.*, authors.author_id
    from identified
    left join authors
        on lower(identified.known_handle) = authors.handle
),

-- the respondent's conversations with the brand on social media before the answer, within the window: by the
-- social account or by the CRM customer. Two equi-joins and a union, not one join on OR: DuckDB hashes these,
-- a join on OR compared every answer with every conversation of the brand (184 s at 1M posts)
{% set within_window %}
        and lower(conversations.brand) = lower(linked.brand)
        and conversations.first_inbound_at <= linked.responded_at
        and conversations.first_inbound_at > linked.responded_at - {{ number_var('nps_social_window_days') }} * interval '1 day'
{% endset %}
social_conversations as (
    select linked.source, linked.response_id, conversations.conversation_id, conversations.service_experience,
           conversations.is_recovered, conversations.first_inbound_at
    from linked
    inner join {{ ref('fct_conversations') }} as conversations
        on conversations.customer_author_id = linked.author_id {{ within_window }}
    union
    select linked.source, linked.response_id, conversations.conversation_id, conversations.service_experience,
           conversations.is_recovered, conversations.first_inbound_at
    from linked
    inner join {{ ref('fct_conversations') }} as conversations
        on conversations.customer_id = linked.customer_id {{ within_window }}
),

-- the last of them decides the experience (two opened in the same second: the greater conversation_id, so a
-- rebuild gives the same answer)
last_conversation as (
    select
        source,
        response_id,
        {{ arg_max('service_experience', '(first_inbound_at, conversation_id)') }} as social_experience,
        {{ arg_max('is_recovered', '(first_inbound_at, conversation_id)') }} as was_recovered_on_social,
        count(*) as social_conversations
    from social_conversations
    group by 1, 2
),

-- an e-mail digest's first answer, which names the person when nothing else does: grouped, not a window over every
-- answer (whose partition of answers without a digest was one, sorted: 0.2-0.35 s of the model's 1.0 s at 1M posts)
email_first as (
    select email_hash, min(source || ':' || response_id) as first_response
    from linked
    where email_hash is not null
    group by 1
),

final as (
    select
        linked.source || ':' || linked.response_id as response_key,
        linked.source,
        linked.response_id,
        linked.brand,
        linked.customer_id,
        linked.customer_matched_by,
        linked.author_id,
        -- one person across answers: the CRM customer, else the social account, else the handle, else the e-mail
        -- digest (named by its first answer: the digest itself is never published), else the answer alone
        coalesce('customer:' || linked.customer_id, 'author:' || linked.author_id,
                 'handle:' || lower(linked.social_handle),
                 'email-respondent:' || email_first.first_response,
                 'response:' || linked.response_id) as respondent_key,
        linked.score,
        case
            when linked.score >= 9 then 'promoter'
            when linked.score >= 7 then 'passive'
            else 'detractor'
        end as nps_group,
        linked.responded_at,
        date_trunc('month', linked.responded_at)::date as period_month,
        coalesce(linked.touchpoint, 'unknown') as touchpoint,
        comments.comment_redacted,
        comments.comment_sentiment,
        comments.comment_categories,
        comments.comment_category,
        coalesce(last_conversation.social_experience, 'no social contact') as social_experience,
        coalesce(last_conversation.was_recovered_on_social, false) as was_recovered_on_social,
        coalesce(last_conversation.social_conversations, 0) as social_conversations
    from linked
    left join comments
        on linked.source = comments.source
        and linked.response_id = comments.response_id
    left join last_conversation
        on linked.source = last_conversation.source
        and linked.response_id = last_conversation.response_id
    left join email_first
        on linked.email_hash = email_first.email_hash
),

sequenced as (
    select
        *,
        -- the same person's next answer to the same brand: did a detractor come round?
        lead(score) over (partition by brand, respondent_key order by responded_at, response_id) as next_score,
        lead(responded_at) over (partition by brand, respondent_key order by responded_at, response_id)
            as next_responded_at
    from final
)

select * from sequenced
{% if is_incremental() %}
-- the answers whose row differs from the built one, column by column (a set difference: nulls equal nulls)
except
select * from {{ this }}
{% endif %}
