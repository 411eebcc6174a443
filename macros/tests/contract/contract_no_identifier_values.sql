{#-
    Contract 000 G1/G2: no value looks like an identifier or a precise location. Every text
    column is scanned for emails, phone numbers, IPv4 and IPv6 addresses, UUIDs and decimal
    coordinates (a number with two or more decimals); every float or decimal column not listed
    in `metric_columns` (default: the spots_insights_v1 record's, macro
    spots_insights_v1_metric_columns) must carry at most one decimal (a finer value could be a coordinate).
-#}
{% test contract_no_identifier_values(model, metric_columns=none) %}
    {%- set metric_columns = metric_columns if metric_columns is not none else privacy_insights.spots_insights_v1_metric_columns() -%}
    {%- set patterns = [
        ('an email address', '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'),
        ('a phone number', '\+?[0-9][0-9 ().-]{7,}[0-9]'),
        ('an IPv4 address', '(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}($|[^0-9.])'),
        ('an IPv6 address', '([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{0,4}::[0-9A-Fa-f:]*'),
        ('a UUID', '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}'),
        ('a decimal coordinate', '(^|[^0-9.])-?[0-9]{1,3}\.[0-9]{2,}'),
    ] -%}
    {%- set checks = [] -%}
    {%- if execute -%}
        {%- for name in privacy_insights._text_columns(model) -%}
            {%- for label, pattern in patterns -%}
                {%- do checks.append("select distinct '" ~ name ~ ": value looks like " ~ label ~ "' as violation from "
                    ~ model ~ " where regexp_matches(cast(\"" ~ name ~ "\" as varchar), '" ~ pattern ~ "')") -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- set dtype = column.dtype | upper -%}
            {%- if (column.is_float() or dtype.startswith("DECIMAL") or dtype.startswith("NUMERIC")) and column.name not in metric_columns -%}
                {%- do checks.append("select distinct '" ~ column.name ~ ": value with more than one decimal (precise coordinate?)' as violation from "
                    ~ model ~ " where \"" ~ column.name ~ "\" is not null and round(\"" ~ column.name ~ "\", 1) != \"" ~ column.name ~ "\"") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ privacy_insights.contract_check(model, "no identifiers or precise locations in values (contract 000 G1, G2)",
        (checks | join(" union all ")) if checks else privacy_insights._no_violation()) }}
{% endtest %}
