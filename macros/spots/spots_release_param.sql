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

{#- The measured levels of a release period (privacy_insights.dp.params.LEVELS): hour periods measure the city only. -#}
{% macro spots_levels(granularity) -%}
    {{ return(['city'] if granularity == 'hour' else ['city', 'city_door_type', 'city_category', 'city_segment']) }}
{%- endmacro %}

{#- A per-level release parameter from var('spots_release').levels, e.g. the bound C_L
    max_cells_per_participant (the hour granularity's city level uses the city's). -#}
{% macro spots_release_level_param(level, name) -%}
    {%- set levels = var('spots_release').get('levels', {}) -%}
    {%- if level not in levels or name not in (levels[level] or {}) -%}
        {{ exceptions.raise_compiler_error("var spots_release.levels." ~ level ~ "." ~ name ~ ": missing") }}
    {%- endif -%}
    {%- set value = levels[level][name] -%}
    {%- if (value | int(0)) < 1 or (value | string) != ((value | int(0)) | string) -%}
        {{ exceptions.raise_compiler_error("var spots_release.levels." ~ level ~ "." ~ name ~ ": must be a whole number >= 1, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}

{#- SQL `case` picking a per-level parameter for the row's `level` column. -#}
{% macro spots_release_param_by_level(name, column='level') -%}
    case {{ column }}
        {%- for level in spots_levels('day') %}
        when '{{ level }}' then {{ spots_release_level_param(level, name) }}
        {%- endfor %}
    end
{%- endmacro %}
