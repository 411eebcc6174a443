{#-
    The release clock of spots_insights_v1.

    A time bucket may be released only once its end is at least `reporting_delay_hours`
    before `as_of` (contract 000 G3). Both are vars so a run is reproducible:
        dbt build --vars '{as_of: "2026-11-01T00:00:00Z", reporting_delay_hours: 96}'
    A delay below the contract minimum of 72 hours, an unparseable as_of, or an as_of in
    the future (which would release buckets younger than the delay) is refused.

    The clock may come from the environment instead, PRIVACY_INSIGHTS_AS_OF (what
    `privacy-insights release` sets): dbt reparses the whole project whenever a --vars
    value changes, but only the files that read a changed environment variable, so a
    scheduled build with a new clock keeps partial parsing (docs/analytics_engineer.md "The release clock").
    Set and not empty, it is the clock; given together with a different --vars as_of, the
    run is refused rather than one silently winning. A unit test that fixes the clock in
    its `vars` override also overrides PRIVACY_INSIGHTS_AS_OF to '' (its vars then hold).
-#}
{% macro reporting_delay_hours() -%}
    {%- set raw = var('reporting_delay_hours') -%}
    {%- set delay = raw | int(-1) -%}
    {%- if delay < 72 or (raw | string) != (delay | string) -%}
        {{ exceptions.raise_compiler_error("var reporting_delay_hours: must be a whole number of hours >= 72 (contract 000 G3: outside-buyer releases are delayed at least 72 h); got '" ~ raw ~ "'") }}
    {%- endif -%}
    {{ return(delay) }}
{%- endmacro %}

{% macro as_of_timestamp() -%}
    {%- set from_environment = env_var('PRIVACY_INSIGHTS_AS_OF', '') | trim -%}
    {%- set cli_vars = invocation_args_dict.get('vars') or {} -%}
    {%- if from_environment and cli_vars is mapping and 'as_of' in cli_vars and (cli_vars['as_of'] | string) != from_environment -%}
        {{ exceptions.raise_compiler_error("as_of given twice and differently: --vars as_of '" ~ cli_vars['as_of'] ~ "' and PRIVACY_INSIGHTS_AS_OF '" ~ from_environment ~ "'; give the clock one way") }}
    {%- endif -%}
    {%- set raw = (from_environment or var('as_of')) | string -%}
    {%- set named = 'PRIVACY_INSIGHTS_AS_OF' if from_environment else 'var as_of' -%}
    {%- set parsed = modules.re.fullmatch('(\\d{4}-\\d{2}-\\d{2})[T ](\\d{2}:\\d{2}:\\d{2})Z?', raw) -%}
    {%- if not parsed -%}
        {{ exceptions.raise_compiler_error(named ~ ": must be a UTC timestamp like 2026-11-01T00:00:00Z; got '" ~ raw ~ "'") }}
    {%- endif -%}
    {%- set value = parsed.group(1) ~ ' ' ~ parsed.group(2) -%}
    {#- A future as_of would release buckets younger than the delay in real time. -#}
    {%- set now = modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- if value > now -%}
        {{ exceptions.raise_compiler_error(named ~ ": must not be in the future (got " ~ raw ~ ", now is " ~ now ~ " UTC): releases are never real-time") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- Latest bucket end that may be released: as_of - reporting_delay_hours (UTC, no zone). -#}
{% macro release_cutoff() -%}
    ({{ dbt.dateadd('hour', -1 * reporting_delay_hours(), "cast('" ~ as_of_timestamp() ~ "' as timestamp)") }})
{%- endmacro %}

{#- The first instant any period may start: var release_start_date (UTC, no zone). -#}
{% macro release_start_timestamp() -%}
    cast('{{ var("release_start_date") }}' as timestamp)
{%- endmacro %}

{#- The first week period: the Monday on or after release_start_date. -#}
{% macro first_release_week_start() -%}
    {{ dbt.date_trunc('week', dbt.dateadd('day', 6, release_start_timestamp())) }}
{%- endmacro %}

{#- True when the hour bucket starting at `hour_start` ends by the release cutoff; otherwise its events are held back. -#}
{% macro hour_is_past_delay(hour_start) -%}
    ({{ dbt.dateadd('hour', 1, hour_start) }} <= {{ release_cutoff() }})
{%- endmacro %}

{#- on-run-start: every invocation checks its clock once, before any node runs, so a run
    whose selection holds no SQL model that reads the clock (the release model alone) is
    refused on the same rules (a bad, future or twice-given as_of). Renders no SQL. -#}
{% macro check_release_clock() -%}
    {%- if execute -%}
        {%- do as_of_timestamp() -%}
    {%- endif -%}
{%- endmacro %}
