{#
    cast(What an incremental run of fct_posts as double precision) / fct_conversations must rebuild, from one high-water mark: the newest
    changed_at already in the target, less change_margin_minutes.

    changed_posts(): every post whose raw row (new, edited, deleted: the merge moves updated_at) or enrichment
    changed since the mark, with its parent. Deleted posts are in it, though they are no longer in the models.

    affected_conversations(changed): the conversations those changes touch, by today's threading: a changed
    post's own, its parent's (a deleted or late reply changes its parent's conversation), and its children's (a
    late parent moves them; a deleted parent drops them). ``changed`` names a CTE holding changed_posts();
    ``threaded_relation`` is int_posts_threaded unless given (int_posts_threaded passes its own last build).

    affected_customers(): for mart_wallet_share, each CRM customer something touched since the mark, with the first
    month it touched: a conversation of theirs changed (or opened within lookback_days, as fct_conversations
    rebuilds those), an order of theirs loaded or changed, their CRM record changed (every month: it may link or
    unlink conversations), or a post of theirs changed (every month: a deleted or re-threaded post can take a
    conversation away, which leaves no changed conversation to find). A customer erased by `socialcx forget` has
    no rows left to find; the model's post-hook deletes what was built from them. (mart_retention and mart_roi
    read changes at their own grain: a cohort, a brand-month.)

    within_lookback(column): the rule for what still moves with time: `column` (a conversation's first post) within
    lookback_days of the data's as-of time. changed_customers(): the CRM customers whose record changed since the
    mark.

    The calling model declares these refs in a `-- depends_on:` comment: refs inside is_incremental() are
    not seen when dbt parses the model.
#}

{% macro change_mark() -%}
    (select max(changed_at) from {{ this }}) - {{ number_var('change_margin_minutes') }} * interval '1 minute'
{%- endmacro %}

{% macro changed_posts() -%}
    select source, post_id, parent_post_id
    from {{ ref('stg_raw__posts') }}
    where updated_at > {{ change_mark() }}
    union
    select source, post_id, parent_post_id
    from {{ ref('int_posts_enriched') }}
    where changed_at > {{ change_mark() }}
{%- endmacro %}

{% macro affected_conversations(changed='changes', threaded_relation=none) -%}
    {#- three equi-joins, not one join on OR: DuckDB hashes these, an OR join compares every pair -#}
    {%- set threaded_relation = threaded_relation or ref('int_posts_threaded') -%}
    select threaded.conversation_id
    from {{ threaded_relation }} as threaded
    inner join {{ changed }} on threaded.source = {{ changed }}.source and threaded.post_id = {{ changed }}.post_id
    union
    select threaded.conversation_id
    from {{ threaded_relation }} as threaded
    inner join {{ changed }}
        on threaded.source = {{ changed }}.source and threaded.post_id = {{ changed }}.parent_post_id
    union
    select threaded.conversation_id
    from {{ threaded_relation }} as threaded
    inner join {{ changed }}
        on threaded.source = {{ changed }}.source and threaded.parent_post_id = {{ changed }}.post_id
{%- endmacro %}


{% macro affected_customers() -%}
    select customer_id, min(from_month) as from_month
    from (
        select customer_id, cast(date_trunc('month', first_inbound_at) as date) as from_month
        from {{ ref('fct_conversations') }}
        where customer_id is not null
            and (
                changed_at > {{ change_mark() }}
                or {{ within_lookback('first_inbound_at') }}
            )
        union all
        select customer_id, cast(date_trunc('month', ordered_at) as date)
        from {{ ref('stg_raw__orders') }}
        where updated_at > {{ change_mark() }}
        union all
        select customer_id, cast('1900-01-01' as date)
        from ({{ changed_customers() }}) as changed
        union all
        -- the author of a post changed since: deleted, edited or threaded anew, it may have taken a conversation of
        -- theirs away or moved it, which leaves no changed conversation behind (every month: it may be an old one)
        select customers.customer_id, cast('1900-01-01' as date)
        from {{ ref('stg_raw__posts') }} as posts
        inner join {{ ref('stg_raw__customers') }} as customers
            on lower(posts.author_handle) = lower(customers.social_handle)
        where posts.updated_at > {{ change_mark() }}
    ) as touched
    group by customer_id
{%- endmacro %}

{% macro within_lookback(column) -%}
    {{ column }} > (select as_of_at from {{ ref('int_as_of') }}) - {{ number_var('lookback_days') }} * interval '1 day'
{%- endmacro %}

{#- When an unanswered conversation is abandoned: backlog_max_age_days after its first post, the backlog's horizon. -#}
{% macro abandoned_at(first_inbound_at) -%}
    ({{ first_inbound_at }} + {{ number_var('backlog_max_age_days') }} * interval '1 day')
{%- endmacro %}

{#- Where the wait for a first response stops: the first reply; unanswered, the data's now, or the moment the
    conversation was abandoned if that came first (int_conversations_business_time's wait, fct_escalations' age). -#}
{% macro wait_ended_at(first_inbound_at, first_response_at, as_of_at) -%}
    coalesce({{ first_response_at }}, least({{ as_of_at }}, {{ abandoned_at(first_inbound_at) }}))
{%- endmacro %}

{#- What fct_conversations (and fct_conversation_reopens, by its rule) rebuild whatever changed: a conversation
    opened within lookback_days (``column``: its first post), and, in a backfill, every one opened in its days. -#}
{% macro still_moving(column) -%}
    {{ within_lookback(column) }}
    {%- if var('backfill_start') %}
        or {{ backfill_between(column) }}
    {%- endif %}
{%- endmacro %}

{% macro changed_customers() -%}
    select customer_id from {{ ref('stg_raw__customers') }} where updated_at > {{ change_mark() }}
{%- endmacro %}

{#- The post-hook of the models built per CRM customer from their orders (mart_wallet_share,
    int_brand_buyer_retention): a customer with no order left (erased by `socialcx forget`) leaves nothing to
    rebuild, so what was built from them is deleted here. Matched against distinct buyers, not every order. -#}
{% macro delete_customers_without_orders() -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from (select distinct customer_id from {{ ref('stg_raw__orders') }}) as buyers
        where buyers.customer_id = built.customer_id
    )
{%- endmacro %}

{#- Whether a built row of mart_advocates (``built``: its alias) no longer has a person behind it: no positive customer
    post of theirs about the brand and no recovered conversation left (erased by `socialcx forget`, every post
    deleted), which leaves nothing to measure again. The model leaves such a row out of its ranks, and its post-hook
    (`delete_advocates_gone`) deletes it. -#}
{% macro advocate_gone(built) -%}
    not exists (
        select 1 from {{ ref('fct_posts') }} as posts
        where posts.is_inbound and posts.sentiment_label = 'positive' and posts.brand = {{ built }}.brand
            and posts.source = {{ built }}.source and posts.author_id = {{ built }}.author_id
    )
    and not exists (
        select 1 from {{ ref('fct_conversations') }} as conversations
        where conversations.is_recovered and conversations.brand = {{ built }}.brand
            and conversations.source = {{ built }}.source and conversations.customer_author_id = {{ built }}.author_id
    )
{%- endmacro %}

{% macro delete_advocates_gone() -%}
    delete from {{ this }} as built where {{ advocate_gone('built') }}
{%- endmacro %}

{#- The post-hook of the marts built per conversation from fct_conversations (fct_conversation_reopens,
    mart_amplification): a conversation gone from it (its posts deleted, or re-threaded under another) leaves
    nothing to rebuild, so its row is deleted here. -#}
{% macro delete_conversations_gone() -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from {{ ref('fct_conversations') }} as conversations
        where conversations.conversation_id = built.conversation_id
    )
{%- endmacro %}

{#- The conversations whose replies int_replies and fct_replies rebuild: those a change touches (``changed`` names
    a CTE holding changed_posts()), and those of a CRM customer added or changed since (the first name their
    replies may say). ``built``, a relation with conversation_id and customer_id (int_replies' own rows), adds the
    conversations built for such a customer: a changed handle takes the old handle's conversations away from them,
    which fct_conversations' current ids no longer show. -#}
{% macro reply_conversations(changed='changes', built=none) -%}
    {{ affected_conversations(changed) }}
    union
    select conversation_id
    from {{ ref('fct_conversations') }}
    where customer_id in ({{ changed_customers() }})
    {%- if built is not none %}
    union
    select conversation_id
    from {{ built }}
    where customer_id in ({{ changed_customers() }})
    {%- endif %}
{%- endmacro %}

{#- A backfill's days (vars backfill_start, backfill_end; the end defaults to the start): ``column`` falls within
    them. The vars come from the command line or an Airflow run's conf, so they are checked to be days before they
    reach the SQL: anything but YYYY-MM-DD stops the build here, and nothing else is ever written into the query. -#}
{% macro backfill_between(column) -%}
    {%- set start = var('backfill_start') | string -%}
    {%- set end = (var('backfill_end') or var('backfill_start')) | string -%}
    {%- for day in [start, end] -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', day) -%}
            {{- exceptions.raise_compiler_error("the vars backfill_start and backfill_end must be days written YYYY-MM-DD, e.g. 2026-01-31") -}}
        {%- endif -%}
    {%- endfor -%}
    cast({{ column }} as date) between cast('{{ start }}' as date) and cast('{{ end }}' as date)
{%- endmacro %}

{#- The conversations whose figures may have moved since the mark, by the rule fct_conversations rebuilds by, less
    its CRM part: those a change touched (changed_posts(), affected_conversations()) and those still moving with time
    (still_moving()). For the marts rebuilt per day or week from them (service_days(), agent_weeks()). -#}
{% macro touched_or_moving_conversations() -%}
    with changes as (
        {{ changed_posts() }}
    )

    {{ affected_conversations('changes') }}
    union
    select conversation_id from {{ ref('fct_conversations') }} where {{ still_moving('first_inbound_at') }}
{%- endmacro %}

{#- The days mart_service_performance rebuilds (its pre-hook writes them to a temporary table and deletes their rows).
    A day's rows read the conversations opened that day and, for the backlog, those opened up to backlog_max_age_days
    before it, so each conversation below names the day it opened and the backlog_max_age_days after:
    - a conversation a change touched since the mark, or one still moving with time (opened within lookback_days,
      and a backfill's days): touched_or_moving_conversations();
    - every conversation opened from backlog_max_age_days before the as-of time on: the backlog's last complete day
      moves with it;
    - a day whose count of conversations differs from the one built: a conversation deleted or moved to another day
      leaves nothing to touch there.
    Also every built day from backlog_max_age_days before the as-of time on (the as-of time moved back: days past it
    lose their rows), and every day of a brand whose business hours' source is not the one built. -#}
{% macro service_days() -%}
    {%- set backlog_days = number_var('backlog_max_age_days') -%}
    with touched as (
        {{ touched_or_moving_conversations() }}
    ),

    as_of_day as (
        select cast(as_of_at as date) as as_of_date from {{ ref('int_as_of') }}
    ),

    opened as (
        select first_inbound_date as opened_date
        from {{ ref('fct_conversations') }}
        where conversation_id in (select conversation_id from touched)
            or first_inbound_date >= (select as_of_date from as_of_day) - {{ backlog_days }} - 1
        union
        select coalesce(current_days.opened_date, built_days.opened_date)
        from (
            select first_inbound_date as opened_date, count(*) as conversations
            from {{ ref('fct_conversations') }}
            group by 1
        ) as current_days
        full outer join (
            select activity_date as opened_date, sum(conversation_count) as conversations
            from {{ this }}
            group by 1
        ) as built_days
            on current_days.opened_date = built_days.opened_date
        where current_days.conversations is distinct from built_days.conversations
    ),

    counted as (
        select opened_date + cast(day_offset as integer) as activity_date
        from opened
        cross join (select {{ int_series(0, backlog_days) }} as day_offset) as offsets
    )

    select activity_date from counted
    union
    select activity_date from {{ this }}
    where activity_date >= (select as_of_date from as_of_day) - {{ backlog_days }} - 1
    union
    select built.activity_date
    from {{ this }} as built
    inner join {{ ref('int_brands_resolved') }} as brands
        on built.brand = brands.brand
    where built.business_hours_source is distinct from brands.hours_source
{%- endmacro %}

{#- The weeks mart_agent_performance rebuilds (its pre-hook writes them to a temporary table and deletes their rows).
    A week's rows read its replies and the conversations they answered first:
    - the weeks of the replies of every conversation a change touched since the mark or that still moves with time
      (touched_or_moving_conversations());
    - the weeks whose replies per brand and agent are not as many as built, nor their first responses, handoffs,
      templated or personalised replies: a reply deleted or moved leaves nothing to touch there, and a new reply can
      make an old text templated, a CRM name an old reply personal (fct_replies rewrites those, their changed_at
      as it was). -#}
{% macro agent_weeks() -%}
    with touched as (
        {{ touched_or_moving_conversations() }}
    ),

    current_weeks as (
        select
            brand,
            coalesce(agent, '(unsigned)') as agent,
            date_trunc('week', replied_at)::date as reply_week,
            count(*) as reply_count,
            count(*) filter (where is_first_response) as first_response_count,
            count(*) filter (where is_handoff_request) as handoff_count,
            count(*) filter (where is_templated) as templated_count,
            count(*) filter (where is_personalized) as personalized_count
        from {{ ref('fct_replies') }}
        group by 1, 2, 3
    )

    select date_trunc('week', replied_at)::date as reply_week
    from {{ ref('fct_replies') }}
    where conversation_id in (select conversation_id from touched)
    union
    select coalesce(current_weeks.reply_week, built.reply_week)
    from current_weeks
    full outer join {{ this }} as built
        on current_weeks.brand = built.brand
        and current_weeks.agent = built.agent
        and current_weeks.reply_week = built.reply_week
    where current_weeks.reply_count is distinct from built.reply_count
        or current_weeks.first_response_count is distinct from built.first_response_count
        or current_weeks.handoff_count is distinct from built.handoff_count
        or current_weeks.templated_count is distinct from built.templated_count
        or current_weeks.personalized_count is distinct from built.personalized_count
{%- endmacro %}

{#- An incremental model that reads columns of its own last build (`this`) which an older version of the model did not
    write: without them its SQL would fail on a binding error that names no repair. This stops the build first, with
    dbt's own words for a table whose columns no longer match ("out of sync"), which `socialcx transform` turns into
    the full refresh to run. One catalog query, on incremental builds only. -#}
{% macro require_built_columns(columns) -%}
    {#- a unit test's `this` is its given rows (a name, not a relation): nothing was built -#}
    {%- if execute and is_incremental() and this is not string -%}
        {%- set held = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = columns | reject('in', held) | list -%}
        {%- if missing -%}
            {{- exceptions.raise_compiler_error(this ~ " is out of sync with this version of its model: it has no "
                                                ~ missing | join(', ') ~ " column") -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether this build sweeps for rows gone without a trace: the post-hooks that look for built rows whose source rows
    are gone compare every row only then. A row can leave in two ways:
    - by a change: a post deleted at the source (its raw row kept, is_deleted, updated_at moved) or threaded anew. A
      build finds those among what changed since the mark, every time;
    - without a trace: `socialcx forget` deletes raw rows, and leaves nothing that changed behind (the person's
      identifiers are not kept to be found again). Nothing else in socialcx deletes a raw row.
    So a build sweeps when an erasure is pending (registered, not yet re-published: `ops.erasure_requests`); when no
    full validation passed within SOCIALCX_FULL_VALIDATION_HOURS (the daily run that validates every row also sweeps
    every row); when the latest validation's reconciliation of raw posts with the marts failed (a raw row deleted by
    hand leaves fct_posts a post more than raw: that critical check fails and the next build sweeps); when the var
    `sweep` is true; and on a target without those ops tables (PostgreSQL: every build). Evaluated as the hook runs. -#}
{% macro sweep_due() -%}
    {%- set asked = var('sweep', false) -%}
    {%- if asked is not boolean -%}
        {{- exceptions.raise_compiler_error("the var sweep must be true or false, e.g. --vars '{sweep: true}'") -}}
    {%- endif -%}
    {%- if not execute or asked -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set requests = adapter.get_relation(database=target.database, schema='ops', identifier='erasure_requests') -%}
    {%- set validations = adapter.get_relation(database=target.database, schema='ops', identifier='full_validations') -%}
    {%- set results = adapter.get_relation(database=target.database, schema='ops', identifier='validation_results') -%}
    {%- if requests is none or validations is none or results is none -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set hours = env_var('SOCIALCX_FULL_VALIDATION_HOURS', '24') -%}
    {%- if not modules.re.fullmatch('[0-9]+', hours) -%}
        {{- exceptions.raise_compiler_error("SOCIALCX_FULL_VALIDATION_HOURS must be a whole number of hours, e.g. 24") -}}
    {%- endif -%}
    {%- set due = run_query(
        "select exists (select 1 from " ~ requests ~ " where status = 'pending')"
        ~ " or not exists (select 1 from " ~ validations ~ " where validated_at > now() - "
        ~ (hours | int) ~ " * interval '1 hour')"
        ~ " or exists (select 1 from " ~ results ~ " where suite = 'marts__reconciliation' and not success"
        ~ " and validated_at = (select max(validated_at) from " ~ results ~ " where suite = 'marts__reconciliation'))") -%}
    {{- return(due.columns[0].values()[0]) -}}
{%- endmacro %}

{#- Where int_posts_threaded notes the conversations it rewrote (their ids as built before, and as written), each
    with the dbt invocation that rewrote them, and a row whose id is NULL as an invocation's stamp: a table in ops
    (bookkeeping, not a model: no analyst or BI tool reads it), since the temporary tables of its hooks are its
    connection's alone. Ids accumulate until an invocation in which both readers (int_conversations_aggregated,
    int_replies) succeeded, whose on-run-end empties it (consume_threaded_rewritten): a reader that failed, or was
    not built, finds the earlier rewrites next time too. A sweep empties it first and notes no id (the readers compare
    every row then), so no id outlives an erasure's build. -#}
{% macro threaded_rewritten() -%}
    {{- return(api.Relation.create(database=target.database, schema='ops', identifier='threaded_rewritten')) -}}
{%- endmacro %}

{#- Whether ops.threaded_rewritten exists yet, asked of the catalogue: dbt's relation cache does not know a table a
    hook created. -#}
{% macro threaded_rewritten_held() -%}
    {%- set held = run_query("select count(*) from information_schema.tables where table_schema = 'ops' "
                             ~ "and table_name = 'threaded_rewritten'") -%}
    {{- return(held.columns[0].values()[0] > 0) -}}
{%- endmacro %}

{#- What int_posts_threaded notes in ops.threaded_rewritten when it was built from scratch (a full refresh, alone or
    with readers that failed): every conversation may have changed, so its readers compare every row until they
    succeed. No conversation id is a lone asterisk (they are source:post_id). -#}
{% macro every_conversation_rewritten() -%}
    {{- return('*') -}}
{%- endmacro %}

{#- on-run-end: once both readers of ops.threaded_rewritten succeeded in this invocation, what it holds has been
    looked at: empty it. Otherwise keep it for the next invocation. -#}
{% macro consume_threaded_rewritten(results) -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set readers = results | selectattr('node.name', 'in', ['int_conversations_aggregated', 'int_replies'])
                              | selectattr('status', 'equalto', 'success') | list -%}
    {%- if readers | length < 2 -%}
        {{- return('') -}}
    {%- endif -%}
    {{- return("delete from " ~ threaded_rewritten() if threaded_rewritten_held() else '') -}}
{%- endmacro %}

{#- The conversations int_posts_threaded rewrote since both its readers (int_conversations_aggregated, int_replies)
    last succeeded, as a query of their ids: those whose rows it deleted (their ids before) and those it wrote. A
    conversation leaves int_posts_threaded, moves, gains or loses a post, or a reply moves out of one, only when it
    rewrites that conversation (or, erased, in a sweep). Returns '' when the readers must look at every row instead:
    a sweep, int_posts_threaded not built incrementally in this invocation, or built from scratch since. -#}
{% macro noted_conversations() -%}
    {%- if not execute or sweep_due() or not threaded_rewritten_held() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set rewritten = threaded_rewritten() -%}
    {%- set stamped = run_query("select count(*) filter (where invocation_id = '" ~ invocation_id
                                ~ "' and conversation_id is null), count(*) filter (where conversation_id = '"
                                ~ every_conversation_rewritten() ~ "') from " ~ rewritten) -%}
    {%- if stamped.columns[0].values()[0] == 0 or stamped.columns[1].values()[0] > 0 -%}
        {{- return('') -}}
    {%- endif -%}
    {{- return("select conversation_id from " ~ rewritten ~ " where conversation_id is not null") -}}
{%- endmacro %}

{#- For the post-hooks that delete built rows whose conversation or reply is gone from int_posts_threaded
    (int_conversations_aggregated, int_replies): "<column> in (noted_conversations()) and ", or nothing (every row
    compared). `column`: the built row's conversation id. -#}
{% macro only_rewritten_conversations(column) -%}
    {%- set noted = noted_conversations() -%}
    {{- return(column ~ " in (" ~ noted ~ ") and " if noted else '') -}}
{%- endmacro %}
