{#-
    Contract 000 §5.1: no forbidden field anywhere in the model: no column name, no field
    of a STRUCT column, and no key inside a JSON (or JSON-looking text) column may be one
    of var('contract_forbidden_fields') or contain it as a `_`-separated part
    (case-insensitive: `User_ID`, `raw_user_id` and `user_id_hash` all fail).
-#}
{% test contract_no_forbidden_fields(model) %}
    {%- set found = [] -%}
    {%- set json_checks = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- set hit = privacy_insights._is_forbidden(column.name) -%}
            {%- if hit -%}{%- do found.append("select '" ~ column.name ~ ": forbidden field name (" ~ hit ~ ")' as violation") -%}{%- endif -%}
            {%- for field in modules.re.findall('([A-Za-z_][A-Za-z0-9_]*)\s+[A-Z]', column.dtype if 'STRUCT' in column.dtype | upper else '') -%}
                {%- set hit = privacy_insights._is_forbidden(field) -%}
                {%- if hit -%}{%- do found.append("select '" ~ column.name ~ "." ~ field ~ ": forbidden struct field (" ~ hit ~ ")' as violation") -%}{%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set keys = contract_forbidden_fields() | join('|') -%}
        {%- for name in privacy_insights._text_columns(model) -%}
            {%- do json_checks.append(
                "select '" ~ name ~ ": JSON key ' || lower(regexp_extract(cast(\"" ~ name ~ "\" as varchar), '\"((?i)(?:[a-z0-9]+_)*(?:" ~ keys ~ ")(?:_[a-z0-9]+)*)\"\\s*:', 1)) || ' is a forbidden field' as violation "
                ~ "from " ~ model ~ " where regexp_matches(cast(\"" ~ name ~ "\" as varchar), '\"((?i)(?:[a-z0-9]+_)*(?:" ~ keys ~ ")(?:_[a-z0-9]+)*)\"\\s*:')") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set parts = found + json_checks -%}
    {{ privacy_insights.contract_check(model, "forbidden fields (contract 000 §5.1)",
        (parts | join(" union all ")) if parts else privacy_insights._no_violation()) }}
{% endtest %}
