{#
    One row per brand reply in a conversation: which customer post it answered, how long that took (clock and
    business time), who signed it, and how it was written (a handoff request, templated, personalised).
    Definitions and their reasons: _operations__models.yml and DECISIONLOG.md.

    Everything per reply comes from int_replies (incremental per conversation); whether its text is templated comes
    from int_reply_texts (incremental per text: a new reply can make an old one templated, so that is counted per
    text, not per conversation).
#}

with replies as (
    select * from {{ ref('int_replies') }}
),

texts as (
    select brand, masked_text, is_templated from {{ ref('int_reply_texts') }}
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
        replies.is_personalized
    from replies
    left join texts
        on replies.brand = texts.brand
        and replies.masked_text = texts.masked_text
)

select * from final
