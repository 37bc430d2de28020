{#
    KPI ratios: a rate column declares, in its yaml `config.meta`, the count columns it divides
    (`numerator`, `denominator`) and its short label (`kpi_label`). The declaration is the one place a reader
    (the report, re-aggregating a brand and date selection) learns how the rate adds up; the test
    `is_ratio_of_its_counts` holds the SQL to it, and mart_kpi_definitions publishes it.
#}
{% macro kpi_ratios() %}
    {% set ratios = [] %}
    {% if execute %}
        {% for node in graph.nodes.values() if node.resource_type == 'model' %}
            {% for column in node.columns.values() %}
                {% set meta = (column.config.meta if column.config is defined and column.config.meta else column.meta) or {} %}
                {% if meta.get('numerator') and meta.get('denominator') %}
                    {% do ratios.append({'mart_name': node.name, 'kpi': column.name, 'label': meta.get('kpi_label', column.name),
                                         'numerator': meta['numerator'], 'denominator': meta['denominator'],
                                         'definition': column.description}) %}
                {% endif %}
            {% endfor %}
        {% endfor %}
    {% endif %}
    {{ return(ratios | sort(attribute='mart_name')) }}
{% endmacro %}

{% macro sql_string(value) -%}
    '{{ (value or '') | replace("'", "''") }}'
{%- endmacro %}
