{# The counts NPS is computed from, and NPS itself: 100 x (promoters - detractors) / responses, -100 to 100. #}
{% macro nps_counts(group_column='nps_group') -%}
    count(*) as responses,
    count(*) filter (where {{ group_column }} = 'promoter') as promoters,
    count(*) filter (where {{ group_column }} = 'passive') as passives,
    count(*) filter (where {{ group_column }} = 'detractor') as detractors,
    100.0 * (count(*) filter (where {{ group_column }} = 'promoter') - count(*) filter (where {{ group_column }} = 'detractor'))
        / count(*) as nps
{%- endmacro %}
