{#
    Phrases that decide a conversation's outcome (fct_conversations.outcome). Patterns are RE2 regular
    expressions over the lower-cased, PII-redacted text; the lists are dbt vars (dbt_project.yml), so a team adds
    its own wording without touching SQL. English plus the most common Spanish forms.
#}

{% macro is_handoff(text) -%}
    {#- a brand reply asking to continue privately: DM, e-mail, phone, a form or a link -#}
    coalesce(regexp_matches(lower({{ text }}), '{{ var("handoff_pattern") | replace("'", "''") }}'), false)
{%- endmacro %}

{% macro is_confirmation(text) -%}
    {#- a customer post confirming the problem is gone, or thanking: "works now", "sorted", "thank you" -#}
    coalesce(regexp_matches(lower({{ text }}), '{{ var("confirmation_pattern") | replace("'", "''") }}'), false)
{%- endmacro %}

{% macro signature_pattern() -%}
    {#- a signature closing a brand reply: "-Becky", "^JK", "~Ana"; group 1 is the agent -#}
    '\s[-^~]\s?([A-Z][A-Za-z]{0,11})\s*$'
{%- endmacro %}

{% macro agent_signature(text) -%}
    {#- the agent who signed a brand reply (empty when unsigned) -#}
    regexp_extract({{ text }}, {{ signature_pattern() }}, 1)
{%- endmacro %}

{% macro without_signature(text) -%}
    regexp_replace({{ text }}, {{ signature_pattern() }}, '')
{%- endmacro %}
