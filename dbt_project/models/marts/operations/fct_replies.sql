{#
    One row per brand reply in a conversation: which customer post it answered, how long that took (clock and
    business time), who signed it, and how it was written (a handoff request, templated, personalised).
    Definitions and their reasons: _operations__models.yml and DECISIONLOG.md.

    Everything per reply comes from int_replies (incremental per conversation); whether its text is templated comes
    from int_reply_texts (incremental per text: a new reply can make an old one templated, so that is counted per
    text, not per conversation). Incremental: the replies of the conversations int_replies rebuilds (the same rule,
    from this model's own mark), and every reply whose is_templated here is no longer its text's or whose
    is_personalized is no longer int_replies' (a scan of the table against int_replies and int_reply_texts: 0.7 s
    in all at 5M posts, against 2.1 s for rewriting it). The
    post-hook deletes the replies int_replies no longer holds.
#}
{{
    config(
        materialized='incremental',
        unique_key='reply_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} as built where not exists (select 1 from {{ ref('int_replies') }} as replies where replies.reply_key = built.reply_key)"
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}, {{ ref('fct_conversations') }}, {{ ref('stg_raw__customers') }}

with
{% if is_incremental() %}
changes as (
    {{ changed_posts() }}
),

affected as (
    {{ reply_conversations('changes') }}
),

{% endif %}
texts as (
    select brand, masked_text, is_templated from {{ ref('int_reply_texts') }}
),

{% if is_incremental() %}
-- replies whose text became templated or stopped being so since they were written here, and replies int_replies
-- rebuilt outside the conversations above (a renamed customer's old conversations: whether they say the name)
retemplated as (
    select built.reply_key
    from {{ this }} as built
    inner join {{ ref('int_replies') }} as replies
        on built.reply_key = replies.reply_key
    left join texts
        on replies.brand = texts.brand
        and replies.masked_text = texts.masked_text
    where built.is_templated <> coalesce(texts.is_templated, false)
        or built.is_personalized <> replies.is_personalized
),

{% endif %}
replies as (
    select * from {{ ref('int_replies') }}
    {% if is_incremental() %}
    where conversation_id in (select conversation_id from affected)
        or reply_key in (select reply_key from retemplated)
    {% endif %}
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
        coalesce(texts.is_templated, false) as is_templated,
        replies.is_personalized,
        replies.changed_at
    from replies
    left join texts
        on replies.brand = texts.brand
        and replies.masked_text = texts.masked_text
)

select * from final
