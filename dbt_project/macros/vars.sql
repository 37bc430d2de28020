{#
    Settings as they reach the SQL. A var comes from dbt_project.yml, `--vars` on the command line or an Airflow
    run's conf, and is written into the query text, so it is checked first: a number must be a number (a string,
    even "7", stops the build naming the var), a list of integers holds integers, a text goes in as a quoted
    literal (sql_string). Nothing else a var holds is ever written into the SQL.
#}
{% macro number(value, name) -%}
    {%- if value is boolean or value is not number -%}
        {{- exceptions.raise_compiler_error("the var " ~ name ~ " must be a number (it is " ~ (value | string | truncate(40)) ~ "): set it in dbt_project.yml or --vars without quotes, e.g. " ~ name ~ ": 7") -}}
    {%- endif -%}
    {{- value -}}
{%- endmacro %}

{% macro number_var(name, default=none) -%}
    {{- number(var(name, default), name) -}}
{%- endmacro %}

{#- a list of integers (days of the week): checked, then written as the engine's integer array -#}
{% macro int_list_var(name) -%}
    {%- set values = var(name) -%}
    {%- if values is string or values is not iterable or values | select('boolean') | list
           or values | reject('integer') | list -%}
        {{- exceptions.raise_compiler_error("the var " ~ name ~ " must be a list of whole numbers, e.g. " ~ name ~ ": [1, 2, 3, 4, 5]") -}}
    {%- endif -%}
    {{- int_list(values | list) -}}
{%- endmacro %}

{#- a mapping of names to numbers (brand health's weights): the mapping and each value checked once, the dict itself
    returned, so the model reads its values as before -#}
{% macro number_dict_var(name) -%}
    {%- set values = var(name) -%}
    {%- if values is not mapping -%}
        {{- exceptions.raise_compiler_error("the var " ~ name ~ " must be a mapping of names to numbers (it is " ~ (values | string | truncate(40)) ~ "): set it in dbt_project.yml as in the shipped file, e.g. loyalty_weights: {retention: 0.4, wallet_share: 0.3, recovery: 0.3}") -}}
    {%- endif -%}
    {%- for key, value in values.items() -%}
        {%- do number(value, name ~ '.' ~ key) -%}
    {%- endfor -%}
    {{- return(values) -}}
{%- endmacro %}
