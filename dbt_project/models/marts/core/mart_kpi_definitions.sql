{#
    The KPI catalogue: every rate a mart declares as a ratio of two of its count columns (yaml config.meta:
    kpi_label, numerator, denominator), with its definition in words. Published with the marts, so a BI tool or the
    report re-aggregates a rate over any selection as sum(numerator) / sum(denominator) without restating it.
#}
{%- set ratios = kpi_ratios() %}
with declared as (
    {%- for ratio in ratios %}
    select
        {{ sql_string(ratio['mart_name']) }} as mart_name,
        {{ sql_string(ratio['kpi']) }} as kpi,
        {{ sql_string(ratio['label']) }} as kpi_label,
        {{ sql_string(ratio['numerator']) }} as numerator_column,
        {{ sql_string(ratio['denominator']) }} as denominator_column,
        {{ sql_string(ratio['definition']) }} as definition,
        {{ loop.index }} as position
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select
        null::varchar as mart_name, null::varchar as kpi, null::varchar as kpi_label,
        null::varchar as numerator_column, null::varchar as denominator_column, null::varchar as definition,
        null::integer as position
    where false
    {%- endfor %}
),

final as (
    select * from declared
)

select * from final
