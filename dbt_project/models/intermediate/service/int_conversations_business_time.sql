{#
    Business-hours duration of each conversation's wait for a first response: from the first customer
    post to the first brand reply, or to the data's as-of time while it is still unanswered.

    Incremental by the rule fct_conversations uses: the conversations int_conversations_aggregated rebuilt since
    this model's last build (their changed_at), every conversation opened within lookback_days of "now" (an
    unanswered one's wait still grows), and a backfill's date range. Older unanswered conversations keep the wait
    measured when they left the window, as fct_conversations does (DECISIONLOG.md, "Incremental marts"). A brand's
    changed business hours apply to conversations rebuilt from then on; `socialcx transform --full-refresh
    --select int_conversations_business_time+` applies them to all.
#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where conversation_id not in (select conversation_id from {{ ref('int_conversations_aggregated') }})",
        pre_hook=without_nested_loops()
    )
}}
{# pre_hook: PostgreSQL guessed 200 business-time groups and joined them back to the conversations by a loop over
   every pair; at 1M posts that ran for more than 26 minutes, as a hash join 44 s #}

with conversations as (
    select aggregated.*, as_of.as_of_at
    from {{ ref('int_conversations_aggregated') }} as aggregated
    cross join {{ ref('int_as_of') }} as as_of
    {% if is_incremental() %}
    where aggregated.changed_at > {{ change_mark() }}
        or aggregated.conversation_id not in (select conversation_id from {{ this }})
        or aggregated.first_inbound_at > as_of.as_of_at - {{ number_var('lookback_days') }} * interval '1 day'
        {% if var('backfill_start') %}
        or {{ backfill_between('aggregated.first_inbound_at') }}
        {% endif %}
    {% endif %}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

spans as (
    select
        conversations.conversation_id,
        conversations.first_inbound_at,
        coalesce(conversations.first_response_at, conversations.as_of_at) as wait_ended_at,
        brands.timezone_name,
        brands.business_open_hour,
        brands.business_close_hour,
        brands.business_days,
        brands.holidays,
        brands.brand,
        cast(null as varchar) as hours_team
    from conversations
    inner join brands
        on conversations.brand = brands.brand
),

business as (
    {{ business_seconds('spans', 'conversation_id', 'first_inbound_at', 'wait_ended_at') }}
),

final as (
    select
        business.span_key as conversation_id,
        business.business_seconds as wait_business_seconds,
        conversations.changed_at
    from business
    inner join conversations
        on business.span_key = conversations.conversation_id
)

select * from final
