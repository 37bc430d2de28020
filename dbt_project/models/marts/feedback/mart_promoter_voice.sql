{# Promoters who speak up: per brand and month, the promoters who posted positively about the brand on social
   media within promoter_voice_days after their answer, and the audience of those who did. #}
with promoters as (
    select * from {{ ref('fct_survey_responses') }}
    where nps_group = 'promoter'
),

posts as (
    select * from {{ ref('fct_posts') }}
    where is_inbound and sentiment_label = 'positive'
),

spoke as (
    select promoters.source, promoters.response_id, count(*) as positive_posts
    from promoters
    inner join posts
        on posts.author_id = promoters.author_id
        and lower(posts.brand) = lower(promoters.brand)
        and posts.created_at > promoters.responded_at
        and posts.created_at <= promoters.responded_at + {{ number_var('promoter_voice_days') }} * interval '1 day'
    group by 1, 2
),

audiences as (
    -- a survey does not say which network: an author's largest described audience
    select author_id, max(followers_count) as followers_count
    from {{ ref('stg_raw__authors') }}
    group by author_id
),

advocates as (
    select distinct brand, author_id from {{ ref('mart_advocates') }}
),

final as (
    select
        promoters.brand,
        promoters.period_month,
        count(*) as promoters,
        count(promoters.author_id) as promoters_with_social_account,
        count(spoke.response_id) as promoters_who_posted,
        cast(count(spoke.response_id) as double precision) / count(*) as speak_up_rate,
        cast(count(spoke.response_id) as double precision) / nullif(count(promoters.author_id), 0) as speak_up_rate_with_social_account,
        coalesce(sum(authors.followers_count) filter (where spoke.response_id is not null), 0) as speaking_reach,
        count(advocates.author_id) as promoters_among_advocates
    from promoters
    left join spoke
        on promoters.source = spoke.source
        and promoters.response_id = spoke.response_id
    left join audiences as authors
        on promoters.author_id = authors.author_id
    left join advocates
        on lower(promoters.brand) = lower(advocates.brand)
        and promoters.author_id = advocates.author_id
    group by promoters.brand, promoters.period_month
)

select * from final
