{#-
    Source freshness measured at the release clock, not the wall clock. dbt's own
    `collect_freshness` compares each source's newest `loaded_at_field` with
    `current_timestamp`; this project's "now" is the var `as_of` (docs/analytics_engineer.md "The
    release clock"), so a source is as stale as its newest row is old at `as_of`. The demo data
    ends just before the default `as_of` and so is fresh; the same data with a later
    `as_of` is stale. Rows loaded after `as_of` do not count: they do not exist yet at the
    release clock (and one far-future timestamp, which staging quarantines, would otherwise
    keep a source fresh forever):

        .venv/bin/dbt source freshness
        .venv/bin/dbt source freshness --vars '{as_of: "2026-11-05T00:00:00Z"}'   # errors

    It overrides dbt's `default__collect_freshness` (dispatch looks in the root project
    first) and keeps its result shape; `as_of_timestamp()` validates the var as for a build.
-#}
{% macro default__collect_freshness(source, loaded_at_field, filter) -%}
    {%- call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            cast('{{ as_of_timestamp() }}' as timestamp) as snapshotted_at
        from {{ source }}
        where {{ loaded_at_field }} <= cast('{{ as_of_timestamp() }}' as timestamp)
        {%- if filter %}
            and ({{ filter }})
        {%- endif %}
    {%- endcall -%}
    {{ return(load_result('collect_freshness')) }}
{%- endmacro %}
