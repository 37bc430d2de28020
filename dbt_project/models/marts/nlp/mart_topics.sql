{#
    Brand-defined topics per brand, topic and UTC day: volume, net sentiment and response rate. A topic is a named
    keyword query of nlp/topics/<brand>.yml matched on every post (fct_posts.topics); a customer post can match
    several topics and then counts in each.
#}

with posts as (
    select
        posts.brand,
        posts.created_date as activity_date,
        posts.conversation_id,
        posts.sentiment_label,
        unnest(posts.topics) as topic
    from {{ ref('fct_posts') }} as posts
    where posts.is_inbound and {{ list_length('posts.topics') }} > 0
),

conversations as (
    select conversation_id, is_responded
    from {{ ref('fct_conversations') }}
),

daily as (
    select
        posts.brand,
        posts.topic,
        posts.activity_date,
        count(*) as post_count,
        count(distinct posts.conversation_id) as conversation_count,
        count(*) filter (where posts.sentiment_label = 'positive') as positive_count,
        count(*) filter (where posts.sentiment_label = 'neutral') as neutral_count,
        count(*) filter (where posts.sentiment_label = 'negative') as negative_count,
        count(distinct posts.conversation_id) filter (where conversations.is_responded) as responded_conversation_count
    from posts
    left join conversations
        on posts.conversation_id = conversations.conversation_id
    group by 1, 2, 3
)

select
    brand,
    topic,
    activity_date,
    post_count,
    conversation_count,
    positive_count,
    neutral_count,
    negative_count,
    responded_conversation_count,
    cast((positive_count - negative_count) as double precision) / nullif(positive_count + negative_count, 0) as net_sentiment,
    cast(negative_count as double precision) / nullif(positive_count + neutral_count + negative_count, 0) as negative_share,
    cast(responded_conversation_count as double precision) / nullif(conversation_count, 0) as response_rate
from daily
