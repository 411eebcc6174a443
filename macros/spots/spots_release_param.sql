{#- A per-granularity release parameter from var('spots_release'), e.g. the contribution bound M. -#}
{% macro spots_release_param(granularity, name) -%}
    {%- set granularities = var('spots_release').get('granularities', {}) -%}
    {%- if granularity not in granularities or name not in granularities[granularity] -%}
        {{ exceptions.raise_compiler_error("var spots_release.granularities." ~ granularity ~ "." ~ name ~ ": missing") }}
    {%- endif -%}
    {%- set value = granularities[granularity][name] -%}
    {%- if (value | int(0)) < 1 -%}
        {{ exceptions.raise_compiler_error("var spots_release.granularities." ~ granularity ~ "." ~ name ~ ": must be a whole number >= 1, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}

{#- SQL `case` picking a per-granularity parameter for the row's `granularity` column. -#}
{% macro spots_release_param_by_granularity(name, column='granularity') -%}
    case {{ column }}
        {%- for g in spots_enabled_granularities() %}
        when '{{ g }}' then {{ spots_release_param(g, name) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- The granularities var('spots_release') enables, in the order hour, day, week. -#}
{% macro spots_enabled_granularities() -%}
    {%- set granularities = var('spots_release').get('granularities', {}) -%}
    {%- set enabled = [] -%}
    {%- for g in ['hour', 'day', 'week'] -%}
        {%- set flag = (granularities.get(g) or {}).get('enabled') -%}
        {%- if flag not in [true, false] -%}
            {{ exceptions.raise_compiler_error("var spots_release.granularities." ~ g ~ ".enabled: must be true or false, got '" ~ flag ~ "'") }}
        {%- endif -%}
        {%- if flag -%}{%- do enabled.append(g) -%}{%- endif -%}
    {%- endfor -%}
    {%- if enabled | length == 0 -%}
        {{ exceptions.raise_compiler_error("var spots_release.granularities: at least one granularity must be enabled") }}
    {%- endif -%}
    {{ return(enabled) }}
{%- endmacro %}
