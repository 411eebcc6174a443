{#-
    Landing completeness of the SPOTS source (docs/landing.md).

    A period is released only once the loader's watermark (raw.spots_load_watermark, model
    stg_spots__load_watermark: "every event that occurred before loaded_through has landed")
    is at least `landing_grace_hours` past its end. The watermark is loader metadata, never
    a value read from the events (a maximum occurred_at or ingested_at is one person's
    timestamp: a release decision reading it would be data-dependent).

    landing_grace_hours        whole hours >= 0 (default 1): slack for a loader whose
                               statement is only as precise as its clocks
    landing_without_watermark  what a source without a watermark means:
                               `hold` (default): nothing is complete, nothing is released;
                               `trust_clock`: a loader that cannot write one; every period
                               past the delay counts as complete (a stalled landing is then
                               released and frozen as an undercount)
-#}
{% macro landing_grace_hours() -%}
    {%- set raw = var('landing_grace_hours', 1) -%}
    {%- set hours = raw | int(-1) -%}
    {%- if hours < 0 or hours > 720 or (raw | string) != (hours | string) -%}
        {{ exceptions.raise_compiler_error("var landing_grace_hours: must be a whole number of hours between 0 and 720; got '" ~ raw ~ "'") }}
    {%- endif -%}
    {{ return(hours) }}
{%- endmacro %}

{% macro landing_without_watermark() -%}
    {%- set raw = var('landing_without_watermark', 'hold') | string -%}
    {%- if raw not in ('hold', 'trust_clock') -%}
        {{ exceptions.raise_compiler_error("var landing_without_watermark: must be hold or trust_clock; got '" ~ raw ~ "'") }}
    {%- endif -%}
    {{ return(raw) }}
{%- endmacro %}
