{#
    Escalations: every actionable conversation routed by the escalation policies (seed escalation_policies) to a
    team, with its due time (the rule's SLA in business minutes from the first customer post, in the team's hours
    where seed business_schedules gives the team its own, else the brand's), when it was
    escalated (unanswered past the rule's escalate-after time), whether the SLA was breached, and its age.
    Unanswered backlog_max_age_days after its first post, an escalation is abandoned, as in the backlog: it is no
    longer open and stops ageing (its age, breach and escalation are those of the moment it was abandoned); a late
    reply still closes it as answered.

    Incremental per conversation: a run rewrites the conversations that are new, were still open at the last build
    (their age, breach and escalation move with time), got their first reply, are routed otherwise (team, rule,
    SLA, first post), changed since (changed_at), or were abandoned later than the data's now (the as-of time moved
    back). An abandoned one no longer moves, so a run rewrites the open escalations of the last
    backlog_max_age_days, not every one ever left unanswered (58k of 270k rows at 1M posts, each rewritten and
    published again every run, until session 35). Only the conversations that may be any of those are routed
    (session 38; before, every conversation was, 3.4 s of a 0.1% run at 5M posts): those a changed post touches,
    those fct_conversations or mart_amplification rebuilt with a newer changed_at, those still moving with time
    (opened within lookback_days, whose SLA target fct_conversations takes again), those open or abandoned later
    than the now when built, and those not built. What routes a conversation (brand, categories, intent, urgency,
    flags, language, actionable, SLA target, reach while unanswered) changes only with one of those; its CRM
    customer, which does not route it, changes without. The business-hours due times, the costly part, are computed
    only for conversations routed anew: the others keep theirs (due_at, escalate_due_at). changed_at: when what the
    row is built from last changed (its conversation, its reach). New business hours or policies, or a forgotten
    post (`socialcx forget` rebuilds it whole): `socialcx transform --full-refresh --select fct_escalations+`.
#}
{# no nested loops on PostgreSQL: the same join back to a business-time aggregate as int_conversations_business_time,
   where PostgreSQL guessed 200 groups and looped over every pair (over 26 minutes at 1M posts; a hash join 44 s) #}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=without_nested_loops(),
        post_hook="delete from {{ this }} as built where not exists (select 1 from {{ ref('fct_conversations') }} as conversations where conversations.is_actionable and conversations.conversation_id = built.conversation_id)"
    )
}}

{{ require_built_columns(['is_abandoned', 'changed_at']) }}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}

with as_of as (
    select as_of_at from {{ ref('int_as_of') }}
),

{% if is_incremental() %}
{#- a built row that still moves with time: open, or abandoned later than the data's now (the as-of time moved back) #}
{%- set moves_as_built -%}
    built.is_open or (built.is_abandoned and {{ abandoned_at('built.first_inbound_at') }} >= as_of.as_of_at)
{%- endset %}
touched as (
    {{ touched_or_moving_conversations() }}
),

-- the conversations that may be rewritten (the header says why these): the others are as built
candidates as (
    select conversation_id from touched
    union
    select conversation_id from {{ ref('fct_conversations') }} where changed_at > {{ change_mark() }}
    union
    select conversation_id from {{ ref('mart_amplification') }} where changed_at > {{ change_mark() }}
    union
    select built.conversation_id
    from {{ this }} as built
    cross join as_of
    where {{ moves_as_built }}
    union
    select conversations.conversation_id
    from {{ ref('fct_conversations') }} as conversations
    where conversations.is_actionable
        and not exists (select 1 from {{ this }} as built where built.conversation_id = conversations.conversation_id)
),

{% endif %}
conversations as (
    select * from {{ ref('fct_conversations') }}
    where is_actionable
    {% if is_incremental() %}
        and conversation_id in (select conversation_id from candidates)
    {% endif %}
),

rules as (
    select * from {{ ref('escalation_policies') }}
),

reach as (
    select conversation_id, reach_while_unanswered, changed_at from {{ ref('mart_amplification') }}
),

-- each rule's place in the order a conversation's candidates are tried: its brand's own rules before the '*'
-- rules, each by rule_order (then brand and team, so that two rules of one brand with the same rule_order are
-- tried in the same order by every build). Among one conversation's candidates the lowest place wins
ranked_rules as (
    select
        rules.*,
        row_number() over (
            order by case when rules.brand = '*' then 1 else 0 end, rules.rule_order, rules.brand, rules.team
        ) as rule_rank
    from rules
),

-- every rule that applies, and the first of them: the lowest place, grouped. A window numbering each
-- conversation's rules sorted all of them (343k at 1M posts): 0.44-0.59 s against 0.22-0.25 s for the routing
winning as (
    select conversations.conversation_id, min(rules.rule_rank) as rule_rank
    from conversations
    left join reach
        on conversations.conversation_id = reach.conversation_id
    inner join ranked_rules as rules
        on (rules.brand = conversations.brand or rules.brand = '*')
        and (rules.category is null or {{ list_has('conversations.categories', 'rules.category') }})
        and (rules.intent is null or rules.intent = conversations.intent)
        and (rules.urgency is null or rules.urgency = conversations.urgency)
        and (
            rules.flag is null
            or (rules.flag = 'churn' and conversations.has_churn_threat)
            or (rules.flag = 'legal_safety' and conversations.has_legal_safety)
            or (rules.flag = 'public_shaming' and conversations.has_public_shaming)
        )
        and (rules.language is null or rules.language = conversations.language)
        and (rules.min_reach is null or coalesce(reach.reach_while_unanswered, 0) >= rules.min_reach)
    group by conversations.conversation_id
),

matches as (
    select
        winning.conversation_id,
        rules.team,
        rules.rule_order,
        rules.brand as rule_brand,
        rules.sla_business_minutes,
        rules.escalate_after_business_minutes
    from winning
    inner join ranked_rules as rules
        on winning.rule_rank = rules.rule_rank
),

routed as (
    select
        conversations.*,
        coalesce(matches.team, 'unrouted') as team,
        matches.rule_brand,
        matches.rule_order,
        coalesce(matches.sla_business_minutes, conversations.sla_target_minutes) as policy_sla_minutes,
        coalesce(matches.escalate_after_business_minutes, matches.sla_business_minutes,
                 conversations.sla_target_minutes) as escalate_after_minutes,
        greatest(conversations.changed_at, reach.changed_at) as routed_changed_at
    from conversations
    left join matches
        on conversations.conversation_id = matches.conversation_id
    left join reach
        on conversations.conversation_id = reach.conversation_id
),

{%- set same_route -%}
    built.brand = routed.brand
    and built.team = routed.team
    and built.rule_brand is not distinct from routed.rule_brand
    and built.rule_order is not distinct from routed.rule_order
    and built.policy_sla_minutes is not distinct from routed.policy_sla_minutes
    and built.first_inbound_at = routed.first_inbound_at
{%- endset %}
-- the conversations this run writes, with the due times they keep (null: computed below)
scope as (
    {% if is_incremental() %}
    select
        routed.*,
        case when {{ same_route }} then built.due_at end as known_due_at,
        case when {{ same_route }} then built.escalate_due_at end as known_escalate_due_at
    from routed
    left join {{ this }} as built
        on routed.conversation_id = built.conversation_id
    cross join as_of
    where built.conversation_id is null
        or {{ moves_as_built }}
        or built.first_response_at is distinct from routed.first_response_at
        or built.changed_at is distinct from routed.routed_changed_at
        or not ({{ same_route }})
    {% else %}
    select
        routed.*,
        case when false then routed.first_inbound_at end as known_due_at,
        case when false then routed.first_inbound_at end as known_escalate_due_at
    from routed
    {% endif %}
),

team_hours as (
    -- the teams with hours of their own (seed business_schedules); others work their brand's
    select distinct brand, team from {{ ref('int_business_schedules') }} where team is not null
),

spans as (
    select
        routed.conversation_id || '|due' as span_key,
        routed.first_inbound_at,
        routed.policy_sla_minutes * 60 as target_seconds,
        brands.timezone_name, brands.business_open_hour, brands.business_close_hour, brands.business_days,
        brands.holidays, brands.brand, team_hours.team as hours_team
    from scope as routed
    inner join {{ ref('int_brands_resolved') }} as brands
        on routed.brand = brands.brand
    left join team_hours
        on routed.brand = team_hours.brand
        and routed.team = team_hours.team
    where routed.known_due_at is null
    union all
    select
        routed.conversation_id || '|escalate',
        routed.first_inbound_at,
        routed.escalate_after_minutes * 60,
        brands.timezone_name, brands.business_open_hour, brands.business_close_hour, brands.business_days,
        brands.holidays, brands.brand, team_hours.team
    from scope as routed
    inner join {{ ref('int_brands_resolved') }} as brands
        on routed.brand = brands.brand
    left join team_hours
        on routed.brand = team_hours.brand
        and routed.team = team_hours.team
    where routed.known_escalate_due_at is null
),

due as (
    {{ business_due_at('spans', 'span_key', 'first_inbound_at', 'target_seconds') }}
),

timed as (
    select
        scope.*,
        coalesce(scope.known_due_at, due_at.due_at) as due_at,
        coalesce(scope.known_escalate_due_at, escalate_at.due_at) as escalate_due_at
    from scope
    left join due as due_at
        on due_at.span_key = scope.conversation_id || '|due'
    left join due as escalate_at
        on escalate_at.span_key = scope.conversation_id || '|escalate'
),

-- each escalation's clock stops at its first reply; unanswered, at the data's now, or when it was abandoned
-- (backlog_max_age_days after its first post) if that came first
clocked as (
    select
        timed.*,
        not timed.is_responded and {{ abandoned_at('timed.first_inbound_at') }} < as_of.as_of_at as is_abandoned,
        {{ wait_ended_at('timed.first_inbound_at', 'timed.first_response_at', 'as_of.as_of_at') }} as clock_at
    from timed
    cross join as_of
),

final as (
    select
        routed.conversation_id,
        routed.brand,
        routed.team,
        routed.rule_brand,
        routed.rule_order,
        routed.policy_sla_minutes,
        routed.first_inbound_at,
        routed.due_at,
        routed.first_response_at,
        -- escalated: still unanswered when the escalate-after time came (and that time has come)
        case when routed.escalate_due_at <= routed.clock_at then routed.escalate_due_at end as escalated_at,
        routed.clock_at > routed.due_at as is_breached,
        not routed.is_responded and not routed.is_abandoned as is_open,
        routed.is_abandoned,
        {{ dbt.datediff('routed.first_inbound_at', 'routed.clock_at', 'second') }} / 3600.0 as age_hours,
        -- when the rule's escalate-after time comes (or came), answered or not
        routed.escalate_due_at,
        routed.routed_changed_at as changed_at
    from clocked as routed
)

select * from final
