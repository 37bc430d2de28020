{#
    A brand's advocates: customers who speak well of it in public, and those it turned from unhappy to happy.
    One row per brand and customer (source, author) with at least one positive post or recovered conversation.
#}
with posts as (
    select * from {{ ref('fct_posts') }}
    where is_inbound
),

conversations as (
    select * from {{ ref('fct_conversations') }}
),

authors as (
    select * from {{ ref('stg_raw__authors') }}
),

handles as (
    select source, author_id, {{ arg_max('author_handle', 'created_at') }} as handle
    from {{ ref('stg_raw__posts') }}
    where is_inbound and not is_deleted
    group by source, author_id
),

-- each post's reach: its author's followers plus those of the people who shared it, where known
post_sharers as (
    select shares.source, shares.post_id, sum(authors.followers_count) as sharer_followers
    from {{ ref('stg_raw__post_shares') }} as shares
    inner join authors
        on shares.source = authors.source
        and shares.sharer_author_id = authors.author_id
    group by shares.source, shares.post_id
),

positive_posts as (
    select
        posts.brand,
        posts.source,
        posts.author_id,
        count(*) as positive_post_count,
        sum(coalesce(authors.followers_count, 0) + coalesce(post_sharers.sharer_followers, 0)) as positive_reach,
        -- praise after a reply: a positive post in a conversation the brand had already answered
        count(*) filter (where posts.created_at > conversations.first_response_at) as praise_after_reply_count,
        max(posts.created_at) as last_positive_post_at
    from posts
    left join authors
        on posts.source = authors.source
        and posts.author_id = authors.author_id
    left join post_sharers
        on posts.source = post_sharers.source
        and posts.post_id = post_sharers.post_id
    left join conversations
        on posts.conversation_id = conversations.conversation_id
    where posts.sentiment_label = 'positive'
    group by 1, 2, 3
),

recovered as (
    select
        brand,
        source,
        customer_author_id as author_id,
        count(*) as recovered_conversation_count
    from conversations
    where is_recovered
    group by 1, 2, 3
),

crm_link as (
    select brand, source, customer_author_id as author_id, max(customer_id) as customer_id
    from conversations
    where customer_id is not null
    group by 1, 2, 3
),

spend as (
    select brand, customer_id, sum(amount) as spend, count(*) as order_count
    from {{ ref('stg_raw__orders') }}
    group by 1, 2
),

advocates as (
    select
        coalesce(positive_posts.brand, recovered.brand) as brand,
        coalesce(positive_posts.source, recovered.source) as source,
        coalesce(positive_posts.author_id, recovered.author_id) as author_id,
        coalesce(positive_posts.positive_post_count, 0) as positive_post_count,
        coalesce(positive_posts.positive_reach, 0) as positive_reach,
        coalesce(positive_posts.praise_after_reply_count, 0) as praise_after_reply_count,
        coalesce(recovered.recovered_conversation_count, 0) as recovered_conversation_count,
        positive_posts.last_positive_post_at
    from positive_posts
    full outer join recovered
        on positive_posts.brand = recovered.brand
        and positive_posts.source = recovered.source
        and positive_posts.author_id = recovered.author_id
),

scored as (
    select
        advocates.*,
        handles.handle,
        authors.followers_count,
        crm_link.customer_id,
        spend.spend,
        spend.order_count,
        (
            advocates.positive_post_count
            + {{ number_var('advocate_praise_weight') }} * advocates.praise_after_reply_count
            + {{ number_var('advocate_recovered_weight') }} * advocates.recovered_conversation_count
        ) * (1 + log10(1 + coalesce(authors.followers_count, 0))) as advocate_score
    from advocates
    left join handles
        on advocates.source = handles.source
        and advocates.author_id = handles.author_id
    left join authors
        on advocates.source = authors.source
        and advocates.author_id = authors.author_id
    left join crm_link
        on advocates.brand = crm_link.brand
        and advocates.source = crm_link.source
        and advocates.author_id = crm_link.author_id
    left join spend
        on advocates.brand = spend.brand
        and crm_link.customer_id = spend.customer_id
),

final as (
    select
        *,
        row_number() over (partition by brand order by advocate_score desc, author_id) as advocate_rank
    from scored
)

select * from final
