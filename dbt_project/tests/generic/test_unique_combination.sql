{#
    Fails on every combination of `columns` held by more than one row (NULLs group together, as in `group by`).

    DuckDB (`default__`): rows are first grouped by one 64-bit hash of their columns, and only the rows whose hash
    is shared are grouped by the columns themselves. A duplicated combination has one hash, so every one of its rows
    is among them: the failures are exactly those of the plain `group by`. Grouped by two strings and a date,
    int_brand_buyer_retention (3.25M rows at 1M posts) was the build's largest test; grouped by one integer first it
    takes 0.20-0.24 s against 0.34-0.51 s (DECISIONLOG). PostgreSQL (`postgres__`) groups by the columns. Both are
    in macros/cross_db.sql.
#}
{% test unique_combination(model, columns) %}
{{ unique_combination_rows(model, columns) }}
{% endtest %}
