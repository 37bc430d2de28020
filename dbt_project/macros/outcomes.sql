{#
    Phrases that decide a conversation's outcome (fct_conversations.outcome). Patterns are RE2 regular
    expressions (on PostgreSQL, its regular expressions with `\b` read as `\y`: macros/cross_db.sql) over the lower-cased, PII-redacted text; the lists are dbt vars (dbt_project.yml), so a team adds
    its own wording without touching SQL. English plus the most common Spanish forms.
#}

{% macro is_handoff(text) -%}
    {#- a brand reply asking to continue privately: DM, e-mail, phone, a form or a link -#}
    coalesce({{ regex_matches('lower(' ~ text ~ ')', sql_string(var("handoff_pattern"))) }}, false)
{%- endmacro %}

{% macro is_confirmation(text) -%}
    {#- a customer post confirming the problem is gone, or thanking: "works now", "sorted", "thank you" -#}
    coalesce({{ regex_matches('lower(' ~ text ~ ')', sql_string(var("confirmation_pattern"))) }}, false)
{%- endmacro %}

{% macro signature_pattern() -%}
    {#- a signature closing a brand reply: "-Becky", "^JK", "~Ana"; group 1 is the agent -#}
    '\s[-^~]\s?([A-Z][A-Za-z]{0,11})\s*$'
{%- endmacro %}

{% macro agent_signature(text) -%}
    {#- the agent who signed a brand reply (empty when unsigned) -#}
    {{ regex_group(text, signature_pattern()) }}
{%- endmacro %}

{% macro without_signature(text) -%}
    regexp_replace({{ text }}, {{ signature_pattern() }}, '')
{%- endmacro %}
