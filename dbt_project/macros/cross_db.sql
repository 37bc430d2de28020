{#
    Where DuckDB and PostgreSQL differ, one macro each, dispatched on the adapter (adapter.dispatch, the way
    dbt_utils and dbt's own cross-database macros do it): `default__` is DuckDB's SQL, `postgres__` PostgreSQL's.
    A model calls the macro, never the dialect. Both must give the same value, type aside (tests/dbt/test_postgres.py
    compares every mart of the two targets).
#}

{# The middle value, interpolated between the two middle ones (DuckDB's median; PostgreSQL's percentile_cont). #}
{% macro median(expr) -%}{{ return(adapter.dispatch('median', 'socialcx')(expr)) }}{%- endmacro %}
{% macro default__median(expr) -%}median({{ expr }}){%- endmacro %}
{% macro postgres__median(expr) -%}percentile_cont(0.5) within group (order by {{ expr }}){%- endmacro %}

{% macro percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'socialcx')(expr, fraction)) }}
{%- endmacro %}
{% macro default__percentile_cont(expr, fraction) -%}quantile_cont({{ expr }}, {{ fraction }}){%- endmacro %}
{% macro postgres__percentile_cont(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{#
    The value of `expr` on the row where `by` is smallest (arg_min) or largest (arg_max), among the rows where
    `where` holds (all when none) and neither is null, as DuckDB's arg_min/arg_max. Ties on `by` are broken by
    `tiebreak` (one column), so both engines pick the same row.
#}
{% macro arg_min(expr, by, tiebreak=none, where=none) -%}
    {{ return(adapter.dispatch('arg_min', 'socialcx')(expr, by, tiebreak, where, 'min')) }}
{%- endmacro %}
{% macro arg_max(expr, by, tiebreak=none, where=none) -%}
    {{ return(adapter.dispatch('arg_min', 'socialcx')(expr, by, tiebreak, where, 'max')) }}
{%- endmacro %}
{% macro default__arg_min(expr, by, tiebreak, where, direction) -%}
    arg_{{ direction }}({{ expr }}, {% if tiebreak %}({{ by }}, {{ tiebreak }}){% else %}{{ by }}{% endif %})
    {%- if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}
{% macro postgres__arg_min(expr, by, tiebreak, where, direction) -%}
    {%- set order = ' desc' if direction == 'max' else '' -%}
    (array_agg({{ expr }} order by {{ by }}{{ order }}{% if tiebreak %}, {{ tiebreak }}{{ order }}{% endif %})
        filter (where {% if where %}({{ where }}) and {% endif %}({{ expr }}) is not null and ({{ by }}) is not null))[1]
{%- endmacro %}

{# Any one non-null value of the group (used where the value is the same on every row). #}
{% macro any_value(expr) -%}{{ return(adapter.dispatch('any_value', 'socialcx')(expr)) }}{%- endmacro %}
{% macro default__any_value(expr) -%}any_value({{ expr }}){%- endmacro %}
{% macro postgres__any_value(expr) -%}(array_agg({{ expr }}) filter (where ({{ expr }}) is not null))[1]{%- endmacro %}

{# Seconds since 1970-01-01 UTC of a timestamp with time zone, or the length of an interval in seconds, as a double. #}
{% macro epoch(expr) -%}{{ return(adapter.dispatch('epoch', 'socialcx')(expr)) }}{%- endmacro %}
{% macro default__epoch(expr) -%}epoch({{ expr }}){%- endmacro %}
{% macro postgres__epoch(expr) -%}extract(epoch from {{ expr }})::double precision{%- endmacro %}

{# A list (array) of the group's values, in `order_by` when given; nulls kept, as DuckDB's list() keeps them. #}
{% macro list_agg(expr, order_by=none) -%}
    {{ return(adapter.dispatch('list_agg', 'socialcx')(expr, order_by)) }}
{%- endmacro %}
{% macro default__list_agg(expr, order_by) -%}
    list({{ expr }}{% if order_by %} order by {{ order_by }}{% endif %})
{%- endmacro %}
{% macro postgres__list_agg(expr, order_by) -%}
    array_agg({{ expr }}{% if order_by %} order by {{ order_by }}{% endif %})
{%- endmacro %}

{# The number of elements of a list (0 for an empty one; null for null). #}
{% macro list_length(expr) -%}{{ return(adapter.dispatch('list_length', 'socialcx')(expr)) }}{%- endmacro %}
{% macro default__list_length(expr) -%}len({{ expr }}){%- endmacro %}
{% macro postgres__list_length(expr) -%}coalesce(cardinality({{ expr }}), case when ({{ expr }}) is not null then 0 end){%- endmacro %}

{# Does the list hold the value? (false for an empty list; null for a null list) #}
{% macro list_has(list_expr, value) -%}
    {{ return(adapter.dispatch('list_has', 'socialcx')(list_expr, value)) }}
{%- endmacro %}
{% macro default__list_has(list_expr, value) -%}list_contains({{ list_expr }}, {{ value }}){%- endmacro %}
{% macro postgres__list_has(list_expr, value) -%}(({{ value }}) = any({{ list_expr }})){%- endmacro %}

{# An empty list of the given SQL element type (varchar, date, integer). #}
{% macro empty_list(element_type) -%}
    {{ return(adapter.dispatch('empty_list', 'socialcx')(element_type)) }}
{%- endmacro %}
{% macro default__empty_list(element_type) -%}[]::{{ element_type }}[]{%- endmacro %}
{% macro postgres__empty_list(element_type) -%}'{}'::{{ element_type }}[]{%- endmacro %}

{# A literal list of integers from a dbt var (e.g. [1, 2, 3]). #}
{% macro int_list(values) -%}{{ return(adapter.dispatch('int_list', 'socialcx')(values)) }}{%- endmacro %}
{% macro default__int_list(values) -%}{{ values }}::integer[]{%- endmacro %}
{% macro postgres__int_list(values) -%}array{{ values }}::integer[]{%- endmacro %}

{# Does the text match the regular expression (RE2 in DuckDB, POSIX ARE in PostgreSQL: `\b` is `\y` there)? #}
{% macro regex_matches(text, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'socialcx')(text, pattern)) }}
{%- endmacro %}
{% macro default__regex_matches(text, pattern) -%}regexp_matches({{ text }}, {{ pattern }}){%- endmacro %}
{% macro postgres__regex_matches(text, pattern) -%}({{ text }} ~ {{ pattern | replace('\\b', '\\y') }}){%- endmacro %}

{# One row per local day from `start_day` to `end_day` (timestamps at midnight), as a select-list expression. #}
{% macro day_series(start_day, end_day) -%}
    {{ return(adapter.dispatch('day_series', 'socialcx')(start_day, end_day)) }}
{%- endmacro %}
{% macro default__day_series(start_day, end_day) -%}
    unnest(generate_series({{ start_day }}, {{ end_day }}, interval '1 day'))
{%- endmacro %}
{% macro postgres__day_series(start_day, end_day) -%}
    generate_series({{ start_day }}, {{ end_day }}, interval '1 day')
{%- endmacro %}

{# The first parenthesised group of the pattern's first match in the text, '' when it does not match. #}
{% macro regex_group(text, pattern) -%}
    {{ return(adapter.dispatch('regex_group', 'socialcx')(text, pattern)) }}
{%- endmacro %}
{% macro default__regex_group(text, pattern) -%}regexp_extract({{ text }}, {{ pattern }}, 1){%- endmacro %}
{% macro postgres__regex_group(text, pattern) -%}
    coalesce(substring({{ text }} from {{ pattern }}), case when ({{ text }}) is not null then '' end)
{%- endmacro %}

{# One row per integer from `first` to `last`, both included, as a select-list expression. #}
{% macro int_series(first, last) -%}{{ return(adapter.dispatch('int_series', 'socialcx')(first, last)) }}{%- endmacro %}
{% macro default__int_series(first, last) -%}unnest(generate_series({{ first }}, {{ last }})){%- endmacro %}
{% macro postgres__int_series(first, last) -%}generate_series({{ first }}, {{ last }}){%- endmacro %}

{# Every match of the pattern in the text, in order, as a list (RE2 in DuckDB; the pattern has no groups). #}
{% macro regex_all(text, pattern) -%}{{ return(adapter.dispatch('regex_all', 'socialcx')(text, pattern)) }}{%- endmacro %}
{% macro default__regex_all(text, pattern) -%}regexp_extract_all({{ text }}, {{ pattern }}){%- endmacro %}
{% macro postgres__regex_all(text, pattern) -%}
    array(select found[1] from regexp_matches({{ text }}, {{ pattern }}, 'g') as found)
{%- endmacro %}

{# The list's elements joined into one text, each element equal to `value` replaced by `replacement`. #}
{% macro join_replacing(list_expr, value, replacement) -%}
    {{ return(adapter.dispatch('join_replacing', 'socialcx')(list_expr, value, replacement)) }}
{%- endmacro %}
{% macro default__join_replacing(list_expr, value, replacement) -%}
    array_to_string([if(piece = {{ value }}, {{ replacement }}, piece) for piece in {{ list_expr }}], '')
{%- endmacro %}
{% macro postgres__join_replacing(list_expr, value, replacement) -%}
    array_to_string(array(
        select case when piece = {{ value }} then {{ replacement }} else piece end
        from unnest({{ list_expr }}) with ordinality as pieces(piece, position)
        order by position
    ), '')
{%- endmacro %}

{# The distinct word 3-grams of a list of words ("a b c"), sorted, or the words joined when there are fewer than three.
   Sorted: a set kept in a table (int_reply_texts) reads the same whichever run computed it. #}
{% macro word_trigrams(words) -%}{{ return(adapter.dispatch('word_trigrams', 'socialcx')(words)) }}{%- endmacro %}
{% macro default__word_trigrams(words) -%}
    case
        when len({{ words }}) < 3 then [array_to_string({{ words }}, ' ')]
        else list_sort(list_distinct([{{ words }}[i] || ' ' || {{ words }}[i + 1] || ' ' || {{ words }}[i + 2]
                                      for i in range(1, len({{ words }}) - 1)]))
    end
{%- endmacro %}
{% macro postgres__word_trigrams(words) -%}
    case
        when coalesce(cardinality({{ words }}), 0) < 3 then array[array_to_string({{ words }}, ' ')]
        else array(
            select distinct {{ words }}[i] || ' ' || {{ words }}[i + 1] || ' ' || {{ words }}[i + 2]
            from generate_series(1, cardinality({{ words }}) - 2) as i
            order by 1
        )
    end
{%- endmacro %}

{# A literal list of texts from a Jinja list; quotes doubled. #}
{% macro text_list(values) -%}{{ return(adapter.dispatch('text_list', 'socialcx')(values)) }}{%- endmacro %}
{% macro default__text_list(values) -%}
    [{% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}]
{%- endmacro %}
{% macro postgres__text_list(values) -%}
    array[{% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}]::varchar[]
{%- endmacro %}

{# A double rounded to `digits` decimal places, half away from zero, as a double. #}
{% macro round_to(expr, digits) -%}{{ return(adapter.dispatch('round_to', 'socialcx')(expr, digits)) }}{%- endmacro %}
{% macro default__round_to(expr, digits) -%}round({{ expr }}, {{ digits }}){%- endmacro %}
{% macro postgres__round_to(expr, digits) -%}
    cast(round(cast({{ expr }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{#
    Pre-hooks for a model whose plan PostgreSQL gets wrong: its estimate of rows from chained CTEs falls to one, so
    it picks nested loops over thousands of rows each side (mart_spike_drivers: 20 s instead of 6 at 100k posts).
    With merge_joins=false, hash joins only: on a one-row estimate it also merged on one column of two and filtered
    on the other (mart_spike_drivers at 1M posts: 212M rows through the merge). `set local` lasts for the model's
    transaction only. DuckDB needs none.
#}
{% macro without_nested_loops(merge_joins=true) -%}
    {{ return(adapter.dispatch('without_nested_loops', 'socialcx')(merge_joins)) }}
{%- endmacro %}
{% macro default__without_nested_loops(merge_joins) -%}{{ return([]) }}{%- endmacro %}
{% macro postgres__without_nested_loops(merge_joins) -%}
    {{ return(["set local enable_nestloop = off"] + ([] if merge_joins else ["set local enable_mergejoin = off"])) }}
{%- endmacro %}

{#- the rows of test_unique_combination (tests/generic): DuckDB groups by a hash of the columns first -#}
{% macro unique_combination_rows(model, columns) -%}
    {{ return(adapter.dispatch('unique_combination_rows', 'socialcx')(model, columns)) }}
{%- endmacro %}
{% macro default__unique_combination_rows(model, columns) -%}
{%- set listed = columns | join(', ') -%}
with shared_hashes as (
    select hash({{ listed }}) as row_hash
    from {{ model }}
    group by 1
    having count(*) > 1
)

select {{ listed }}, count(*) as n
from {{ model }}
where hash({{ listed }}) in (select row_hash from shared_hashes)
group by {{ listed }}
having count(*) > 1
{%- endmacro %}

{% macro postgres__unique_combination_rows(model, columns) -%}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endmacro %}
