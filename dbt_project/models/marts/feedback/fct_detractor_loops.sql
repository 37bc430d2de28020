{#
    Closing the loop: one row per detractor answer (score 0-6). First contact is the earlier of a follow-up's
    contacted_at (raw.survey_followups) and the brand's first reply to that person on social media after the
    answer. The target is detractor_contact_target_hours (default 48).
#}
with detractors as (
    select * from {{ ref('fct_survey_responses') }}
    where nps_group = 'detractor'
),

followups as (
    select * from {{ ref('stg_raw__survey_followups') }}
),

as_of as (
    select as_of_at from {{ ref('int_as_of') }}
),

-- the brand's first reply on social media to the respondent after the answer
social_replies as (
    select detractors.source, detractors.response_id, min(replies.created_at) as first_reply_at
    from detractors
    inner join {{ ref('fct_conversations') }} as conversations
        on lower(conversations.brand) = lower(detractors.brand)
        and conversations.customer_author_id = detractors.author_id
    inner join {{ ref('fct_posts') }} as replies
        on replies.conversation_id = conversations.conversation_id
        and not replies.is_inbound
        and replies.created_at > detractors.responded_at
    group by 1, 2
),

contacted as (
    select
        detractors.*,
        followups.closed_at,
        nullif(trim(followups.team), '') as followup_team,
        least(followups.contacted_at, social_replies.first_reply_at) as first_contact_at,
        case
            when followups.contacted_at is null and social_replies.first_reply_at is null then null
            when social_replies.first_reply_at is null
                or followups.contacted_at <= social_replies.first_reply_at then 'follow-up'
            else 'social reply'
        end as contact_channel
    from detractors
    left join followups
        on detractors.source = followups.source
        and detractors.response_id = followups.response_id
    left join social_replies
        on detractors.source = social_replies.source
        and detractors.response_id = social_replies.response_id
),

final as (
    select
        contacted.response_key,
        contacted.source,
        contacted.response_id,
        contacted.brand,
        contacted.customer_id,
        contacted.score,
        contacted.responded_at,
        date_trunc('week', contacted.responded_at)::date as response_week,
        -- who owns it: the team a follow-up names, else the comment's category (escalation rules, where they
        -- exist, take precedence once the escalation marts define them)
        coalesce(contacted.followup_team, contacted.comment_category, 'unassigned') as team,
        contacted.comment_category,
        contacted.responded_at + {{ number_var('detractor_contact_target_hours') }} * interval '1 hour' as contact_due_at,
        contacted.first_contact_at,
        contacted.contact_channel,
        contacted.closed_at,
        contacted.closed_at is not null as is_closed,
        {{ dbt.datediff('contacted.responded_at', 'contacted.first_contact_at', 'second') }} / 3600.0 as hours_to_contact,
        {{ dbt.datediff('contacted.responded_at', 'contacted.closed_at', 'second') }} / 3600.0 as hours_to_close,
        -- age: how long the loop has been (or was) open, to the data's now when still open
        {{ dbt.datediff('contacted.responded_at', 'coalesce(contacted.closed_at, as_of.as_of_at)', 'second') }} / 3600.0
            as age_hours,
        coalesce(contacted.first_contact_at
                 <= contacted.responded_at + {{ number_var('detractor_contact_target_hours') }} * interval '1 hour', false)
            as is_contacted_within_sla,
        contacted.first_contact_at is null
            and as_of.as_of_at > contacted.responded_at + {{ number_var('detractor_contact_target_hours') }} * interval '1 hour'
            as is_past_target,
        case
            when contacted.closed_at is not null then null
            when as_of.as_of_at - contacted.responded_at < interval '48 hour' then 'under 48h'
            when as_of.as_of_at - contacted.responded_at < interval '7 day' then '2 to 7 days'
            when as_of.as_of_at - contacted.responded_at < interval '30 day' then '7 to 30 days'
            else 'over 30 days'
        end as open_age_bucket,
        contacted.next_score,
        contacted.next_responded_at,
        contacted.next_score is not null as is_resurveyed,
        coalesce(contacted.next_score >= 7, false) as is_converted
    from contacted
    cross join as_of
)

select * from final
