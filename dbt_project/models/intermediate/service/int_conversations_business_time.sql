{#
    Business-hours duration of each conversation's wait for a first response: from the first customer
    post to the first brand reply, or, while it is still unanswered, to the data's as-of time, until it is abandoned
    (backlog_max_age_days after the first post, as in the backlog): then the wait stops there.

    Incremental by the rule fct_conversations uses: the conversations int_conversations_aggregated rebuilt since
    this model's last build (their changed_at), every conversation opened within lookback_days of "now", and a
    backfill's date range; and every unanswered one whose wait ends elsewhere now than when it was built
    (wait_ended_at: the as-of time moved, forward before its abandonment or back). So an unanswered conversation is
    measured again until it is abandoned, then never again, and the result is a full refresh's however far the
    as-of time moved. A brand's changed business hours apply to conversations rebuilt from then on;
    `socialcx transform --full-refresh --select int_conversations_business_time+` applies them to all.
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

{{ require_built_columns(['wait_ended_at']) }}
{%- set ends_now = wait_ended_at('aggregated.first_inbound_at', 'aggregated.first_response_at', 'as_of.as_of_at') %}

with
{% if is_incremental() %}
-- the conversations this run measures again, each rule selected on its own. In one OR with the others, the
-- unanswered rule's lookup of the built row was made for every conversation, answered or not: DuckDB grouped all of
-- them to decorrelate it (at 5M posts 2.3-2.7 s of CPU for the model's query, 1.1 s with the rules apart)
rebuilt as (
    -- rebuilt since the last build, opened within lookback_days, or in a backfill's days
    select conversation_id
    from {{ ref('int_conversations_aggregated') }}
    where changed_at > {{ change_mark() }} or {{ still_moving('first_inbound_at') }}
    union
    -- not built yet
    select aggregated.conversation_id
    from {{ ref('int_conversations_aggregated') }} as aggregated
    where not exists (select 1 from {{ this }} as built where built.conversation_id = aggregated.conversation_id)
    union
    -- unanswered, and its wait ends elsewhere now: measured again
    select aggregated.conversation_id
    from {{ ref('int_conversations_aggregated') }} as aggregated
    cross join {{ ref('int_as_of') }} as as_of
    inner join {{ this }} as built
        on aggregated.conversation_id = built.conversation_id
    where aggregated.first_response_at is null
        and built.wait_ended_at is distinct from {{ ends_now }}
),

{% endif %}
conversations as (
    select
        aggregated.*,
        {{ ends_now }} as wait_ended_at
    from {{ ref('int_conversations_aggregated') }} as aggregated
    cross join {{ ref('int_as_of') }} as as_of
    {% if is_incremental() %}
    where aggregated.conversation_id in (select conversation_id from rebuilt)
    {% endif %}
),

brands as (
    select * from {{ ref('int_brands_resolved') }}
),

spans as (
    select
        conversations.conversation_id,
        conversations.first_inbound_at,
        conversations.wait_ended_at,
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
        conversations.wait_ended_at,
        conversations.changed_at
    from business
    inner join conversations
        on business.span_key = conversations.conversation_id
)

select * from final
