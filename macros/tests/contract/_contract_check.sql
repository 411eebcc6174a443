{#-
    Shared by the contract-000 generic tests. Runs `violations_sql`, which must return one
    text column `violation` ("<column>: <what>"), and when it returns anything fails the
    build with a message naming the model, each violation and the contract rule. (dbt's own
    test failure message only counts rows; a privacy reviewer needs the column and the rule.)
    Returns the SQL dbt runs as the test: the same violations, so a passing test returns 0 rows.
    When the model does not exist yet (dbt compile or docs generate before a build), only the
    SQL is returned. `kind` names the rule book in the message (other checks reuse this one).
-#}
{% macro contract_check(model, rule, violations_sql, kind='Contract 000') -%}
    {#- compile-only commands (dbt compile, docs generate) may run before the model exists -#}
    {%- if execute and load_relation(model) is not none -%}
        {%- set result = run_query("select violation from (" ~ violations_sql ~ ") as v limit 20") -%}
        {%- if result.rows | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                kind ~ " violation in " ~ model ~ " [rule: " ~ rule ~ "]: "
                ~ (result.columns[0].values() | join("; "))) }}
        {%- endif -%}
    {%- endif -%}
    select violation from ({{ violations_sql }}) as v
{%- endmacro %}

{#- The contract §5.1 deny-list and obvious equivalents, lower case. -#}
{% macro contract_forbidden_fields() -%}
    {{ return(var('contract_forbidden_fields')) }}
{%- endmacro %}

{% macro _is_forbidden(name) -%}
    {%- set lowered = name | lower -%}
    {%- for forbidden in contract_forbidden_fields() -%}
        {%- if lowered == forbidden or lowered.startswith(forbidden ~ '_') or lowered.endswith('_' ~ forbidden) -%}
            {{ return(forbidden) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{% macro _text_columns(model) -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.is_string() or 'JSON' in column.dtype | upper -%}{%- do names.append(column.name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro _no_violation() -%}
    select cast(null as varchar) as violation where false
{%- endmacro %}
