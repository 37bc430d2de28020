{#
    A rate column equals its declared numerator / denominator (its yaml `config.meta`), row by row: the
    declaration the report re-aggregates with cannot drift from the SQL that computes the rate.
#}
{% test is_ratio_of_its_counts(model, column_name) %}
{% set ratio = (kpi_ratios() | selectattr('mart_name', 'equalto', model.identifier) | selectattr('kpi', 'equalto', column_name) | list) %}
{% if execute and not ratio %}
    {{ exceptions.raise_compiler_error(column_name ~ " of " ~ model.identifier ~ " declares no numerator and denominator in its config.meta") }}
{% endif %}
{% set numerator = ratio[0]['numerator'] if ratio else 'null' %}
{% set denominator = ratio[0]['denominator'] if ratio else 'null' %}
select *
from {{ model }}
where ({{ column_name }} is null) <> (coalesce({{ denominator }}, 0) = 0)
    or abs({{ column_name }} - cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)) > 1e-9
{% endtest %}
