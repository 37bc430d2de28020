{#
    Customer posts the NLP pipeline was least sure of, for a person to check: the current label, its confidence
    and the model version that gave it. Corrections go back through `socialcx nlp sample` / `nlp train` (the
    queue's post ids and redacted texts are what `nlp sample --strategy uncertain` writes for labelling).
#}

select
    posts.post_key,
    posts.source,
    posts.post_id,
    posts.brand,
    posts.created_at,
    posts.text_redacted,
    posts.sentiment_label,
    posts.sentiment_confidence,
    posts.primary_category,
    posts.intent,
    posts.urgency,
    posts.pipeline_version,
    row_number() over (
        partition by posts.brand order by posts.sentiment_confidence, posts.created_at desc, posts.post_key
    ) as review_rank
from {{ ref('fct_posts') }} as posts
where posts.is_inbound
    and posts.is_english
    and posts.sentiment_confidence < {{ number_var('review_confidence_below', 0.6) }}
