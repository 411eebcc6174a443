{#-
    Contract 000 G1: no free text. Every text column of the model must be enumerated, and
    hold only enumerated values: the record's geo and segment columns against the seeds
    (city codes or geohash3 cells; door types; categories and contexts, plus the roll-up
    value `all`), every other text column against its list in `allowed` (default: the
    spots_insights_v1 record's, macro spots_insights_v1_enumerations). A text column
    that is neither fails: a new text column is free text until someone enumerates it.
-#}
{% test contract_enumerated_text(model, allowed=none) %}
    {%- set allowed = allowed if allowed is not none else privacy_insights.spots_insights_v1_enumerations() -%}
    {%- set seeded = {
        'geo_bucket_id': "select city_code from " ~ ref('city_definitions') ~ " union all select geohash3 from " ~ ref('city_geohash3_map'),
        'segment_door_type': "select door_type from " ~ ref('door_types') ~ " union all select 'all'",
        'segment_category': "select category from " ~ ref('categories') ~ " union all select 'all'",
        'segment_context': "select context from " ~ ref('contexts') ~ " union all select 'all'",
    } -%}
    {%- set checks = [] -%}
    {%- if execute -%}
        {%- for name in privacy_insights._text_columns(model) -%}
            {%- if name in seeded -%}
                {%- set domain = seeded[name] -%}
            {%- elif name in allowed -%}
                {%- set domain = "select * from (values ('" ~ (allowed[name] | join("'), ('")) ~ "')) as allowed(value)" -%}
            {%- else -%}
                {%- set domain = none -%}
            {%- endif -%}
            {%- if domain is none -%}
                {%- do checks.append("select '" ~ name ~ ": text column with no enumeration (free text?)' as violation") -%}
            {%- else -%}
                {%- do checks.append("select distinct '" ~ name ~ ": value ''' || cast(\"" ~ name ~ "\" as varchar) || ''' is not enumerated' as violation from "
                    ~ model ~ " where \"" ~ name ~ "\" is not null and cast(\"" ~ name ~ "\" as varchar) not in (" ~ domain ~ ")") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ privacy_insights.contract_check(model, "text only from enumerations (contract 000 G1)",
        (checks | join(" union all ")) if checks else privacy_insights._no_violation()) }}
{% endtest %}
