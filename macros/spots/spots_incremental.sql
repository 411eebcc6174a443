{#-
    Incremental builds of the SPOTS pipeline (docs/analytics_engineer.md "Incremental builds").

    stg_spots__interaction_events and int_spots__cell_aggregates are incremental by period:
    - staging restages whole UTC days: every day whose count of stageable raw rows (valid,
      not held back by the delay) differs from its count of staged rows. Raw rows are only
      ever added, so these are the days with new rows: events the delay no longer holds
      back, events no longer after as_of, and late arrivals of older days, whatever their
      ingested_at says;
    - the aggregates recompute every period from the aggregation horizon on (below).
    So each period's aggregates are always those of all its staged events, exactly as a
    full build computes them; released cells still never change (the release models
    append only). `--full-refresh` recomputes everything.
-#}

{#- The start of this dbt invocation (UTC, no zone): when staging and aggregates rows were written. -#}
{% macro spots_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- The warehouse relation of a model of this project, or none when it is not built yet. -#}
{% macro spots_model_relation(model_name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#-
    The aggregation horizon: a SQL timestamp (a Monday, 00:00 UTC), or none for all history
    (first build, --full-refresh, a granularity enabled since the last build, outside
    execution).
    - Before the aggregates are built in this invocation: the Monday of the earliest day
      restaged since they were last built, or of the first period not aggregated yet.
    - Once they are (the tests of this build), or when there is nothing new: the Monday of
      the first period the last aggregation wrote, so the bounding test checks what the
      build recomputed.
-#}
{% macro spots_aggregation_horizon() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set aggregates = spots_model_relation('int_spots__cell_aggregates') -%}
    {%- set staging = spots_model_relation('stg_spots__interaction_events') -%}
    {%- if aggregates is none or staging is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set period_days = {'hour': 1, 'day': 1, 'week': 7} -%}
    {%- set granularities = spots_enabled_granularities() -%}
    {%- set firsts = ['restaged.first_day'] -%}
    {%- for granularity in granularities -%}
        {%- do firsts.append(dbt.dateadd('day', period_days[granularity], 'aggregated.last_' ~ granularity)) -%}
    {%- endfor -%}
    {%- set query -%}
        with

        aggregated as (
            select
                {%- for granularity in granularities %}
                    max(case when granularity = '{{ granularity }}' then period_start end) as last_{{ granularity }},
                {%- endfor %}
                max(aggregated_at) as aggregated_at
            from {{ aggregates }}
        ),

        last_aggregation as (
            select min(aggregates.period_start) as first_period
            from {{ aggregates }} as aggregates
            where aggregates.aggregated_at = (select aggregated.aggregated_at from aggregated)
        ),

        restaged as (
            select min(staging.day_start) as first_day
            from {{ staging }} as staging
            where staging.staged_at > (select aggregated.aggregated_at from aggregated)
        )

        select
            {%- for granularity in granularities %}
                aggregated.last_{{ granularity }} is null or
            {%- endfor %} false as granularity_missing,
            cast({{ dbt.date_trunc('week', 'case when aggregated.aggregated_at = ' ~ spots_run_started_at()
                ~ ' then last_aggregation.first_period else coalesce(least(' ~ firsts | join(', ')
                ~ '), last_aggregation.first_period) end') }} as string) as horizon
        from aggregated, last_aggregation, restaged
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if row[0] or row[1] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ row[1] ~ "' as timestamp)") }}
{%- endmacro %}

{#-
    True when days_model (stg_spots__interaction_events_days or stg_outreach__event_logs_days)
    was built in this invocation, so its to_check marks are current. When it was not (a build
    that selects a staging model without it), the incremental staging models re-validate
    every day instead: slower, never stale.
-#}
{% macro days_checked_now(days_model) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set days = spots_model_relation(days_model) -%}
    {%- if days is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set row = run_query('select count(*) from ' ~ days ~ ' where checked_at = ' ~ spots_run_started_at()).rows[0] -%}
    {{ return(row[0] > 0) }}
{%- endmacro %}

{#- The check days stg_spots__interaction_events_days marks to check in this invocation. -#}
{% macro spots_days_to_check() -%}
    select checked_days.check_day
    from {{ ref('stg_spots__interaction_events_days') }} as checked_days
    where checked_days.to_check
{%- endmacro %}

{#-
    Pre-hook of the incremental SPOTS staging models: deletes the rows of every day this
    build checks (every row when the days model was not built in this invocation), so a
    day whose rows all leave the model (quarantined as after an earlier as_of, now staged
    or held back) is emptied too; delete+insert alone only replaces the days the build
    writes rows for. Spark (Parquet tables have no DELETE; insert_overwrite replaces only
    the partitions the build writes): the checked days' partitions are dropped.
-#}
{% macro spots_clear_checked_days(day_column) -%}
    {{ return(adapter.dispatch('spots_clear_checked_days', 'privacy_insights')(day_column)) }}
{%- endmacro %}

{% macro default__spots_clear_checked_days(day_column) -%}
    {%- if is_incremental() and days_checked_now('stg_spots__interaction_events_days') -%}
        delete from {{ this }}
        where {{ day_column }} in ({{ spots_days_to_check() }})
    {%- elif is_incremental() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__spots_clear_checked_days(day_column) -%}
    {%- if is_incremental() and days_checked_now('stg_spots__interaction_events_days') -%}
        {%- set days = run_query(spots_days_to_check()).columns[0].values() -%}
        {%- if days | length > 0 -%}
            alter table {{ this }} drop if exists
            {%- for day in days %}
                partition ({{ day_column }} = '{{ day.strftime("%Y-%m-%d %H:%M:%S") }}'){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endif -%}
    {%- elif is_incremental() -%}
        truncate table {{ this }}
    {%- endif -%}
{%- endmacro %}

{#-
    Var full_check (default false): `dbt build --vars '{full_check: true}'` makes an incremental
    build check what a full build checks, without restaging: stg_spots__interaction_events_days
    counts every raw row per day again (finding rows added, deleted or moved on any day) and
    reconcile_spots_staging reconciles every day and every stored per-day summary. The
    scheduled weekly full check (docs/incremental_builds.md). A full build and --full-refresh
    always do.
-#}
{% macro spots_full_check() -%}
    {%- set value = var('full_check', false) -%}
    {%- if value not in [true, false] -%}
        {{ exceptions.raise_compiler_error("var full_check: must be true or false; got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value or flags.FULL_REFRESH) }}
{%- endmacro %}

{#-
    True when stg_spots__interaction_events_days may take this build's raw counts per day from
    the summary the last build stored (stg_spots__interaction_events_day_counts) instead of
    counting every raw row: not a full check, and nothing was added since, as far as whole-table
    counts can tell (run when the model compiles; DuckDB answers a count of a table without
    reading its rows): the raw table holds as many rows as the summary's days, and the staging
    tables as many as the summary says they hold (so no build left them changed behind the
    summary's back). Raw rows are only ever added (docs/analytics_engineer.md "Incremental builds"); a deletion
    offset by as many new rows is what the weekly full check is for.
    Spark: false (every build counts every raw row, as before; its split build is measured
    as a full build).
-#}
{% macro spots_days_from_summary() -%}
    {{ return(adapter.dispatch('spots_days_from_summary', 'privacy_insights')()) }}
{%- endmacro %}

{% macro default__spots_days_from_summary() -%}
    {%- if not execute or spots_full_check() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set summary = spots_model_relation('stg_spots__interaction_events_day_counts') -%}
    {%- set tables = [] -%}
    {%- for name in ['stg_spots__interaction_events', 'stg_spots__interaction_events_quarantine',
        'stg_spots__interaction_events_duplicates'] -%}
        {%- do tables.append(spots_model_relation(name)) -%}
    {%- endfor -%}
    {%- if summary is none or none in tables -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select
            (select count(*) from {{ source('spots', 'spots_interaction_events') }}) as raw_rows,
            (select count(*) from {{ tables[0] }}) as staged_rows,
            (select count(*) from {{ tables[1] }}) as quarantined_rows,
            (select count(*) from {{ tables[2] }}) as duplicate_rows,
            coalesce(sum(summary.raw_rows), -1) as summary_raw_rows,
            coalesce(sum(summary.staged_rows), -1) as summary_staged_rows,
            coalesce(sum(summary.quarantined_rows), -1) as summary_quarantined_rows,
            coalesce(sum(summary.duplicate_rows), -1) as summary_duplicate_rows
        from {{ summary }} as summary
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {{ return(row[0] == row[4] and row[1] == row[5] and row[2] == row[6] and row[3] == row[7]) }}
{%- endmacro %}

{% macro spark__spots_days_from_summary() -%}
    {{ return(false) }}
{%- endmacro %}

{#-
    True when reconcile_spots_staging may reconcile only the days this build checked (and the
    totals of the others against their stored summaries): an incremental build that built the
    days model, the staging models, their per-day summary and the first-copy table in this
    invocation, not a full check. Spark: false (every day, as before).
-#}
{% macro spots_reconcile_checked_days_only() -%}
    {{ return(adapter.dispatch('spots_reconcile_checked_days_only', 'privacy_insights')()) }}
{%- endmacro %}

{% macro default__spots_reconcile_checked_days_only() -%}
    {%- if not execute or spots_full_check() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for name in ['stg_spots__interaction_events_days', 'stg_spots__interaction_events',
        'stg_spots__interaction_events_quarantine', 'stg_spots__interaction_events_duplicates',
        'stg_spots__interaction_events_day_counts', 'stg_spots__interaction_events_first_copies'] -%}
        {%- if 'model.privacy_insights.' ~ name not in selected_resources -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(days_checked_now('stg_spots__interaction_events_days')) }}
{%- endmacro %}

{% macro spark__spots_reconcile_checked_days_only() -%}
    {{ return(false) }}
{%- endmacro %}

{#-
    The first-copy table (stg_spots__interaction_events_first_copies) as the last build left
    it, for the lookup of other copies by event_id (macro spots_checked_events), or none when
    it is not built yet (then the days model checks every day). Spark: none in the first-copy
    model itself (an insert overwrite there cannot read the table it writes; it looks the
    copies up among the raw rows, as every model did before, with the same result).
-#}
{% macro spots_first_copies_lookup() -%}
    {{ return(adapter.dispatch('spots_first_copies_lookup', 'privacy_insights')()) }}
{%- endmacro %}

{% macro default__spots_first_copies_lookup() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(spots_model_relation('stg_spots__interaction_events_first_copies')) }}
{%- endmacro %}

{% macro spark__spots_first_copies_lookup() -%}
    {%- if not execute or model.name == 'stg_spots__interaction_events_first_copies' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(spots_model_relation('stg_spots__interaction_events_first_copies')) }}
{%- endmacro %}

{#-
    Keeps the first-copy table from going stale: a build that writes a SPOTS staging model
    (stg_spots__interaction_events, _quarantine or _duplicates) without building
    stg_spots__interaction_events_first_copies drops that table, so the next build that
    builds it finds none and checks every day (a stale table would choose the wrong copy as
    the one kept). The staging models' post-hook: after the model's own query, which read the
    table as the last build left it (still right for the days this build did not check); the
    staging models built after it then compile without it and look the copies up among the
    raw rows.
-#}
{% macro spots_drop_first_copies_unless_built() -%}
    {%- if execute and model.name in ['stg_spots__interaction_events', 'stg_spots__interaction_events_quarantine',
        'stg_spots__interaction_events_duplicates']
        and 'model.privacy_insights.stg_spots__interaction_events_first_copies' not in selected_resources -%}
        {%- set first_copies = spots_model_relation('stg_spots__interaction_events_first_copies') -%}
        {%- if first_copies is not none -%}
            {%- do adapter.drop_relation(first_copies) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    CTEs promoted_days and days_to_check of stg_spots__interaction_events_days: the days of
    clock_days (a CTE of check days the build checks), and the days holding the other copies
    (listed in the duplicates) of an event_id whose kept copy, on one of those days, was
    quarantined as after as_of. Once the clock passes it, that copy may break another rule
    (a location or type the future rule was found before) and no longer be kept: a copy on
    another day comes first, so every day with a copy is checked. No raw row is read.
-#}
{% macro spots_promoted_days(clock_days, quarantine, duplicates) -%}
    promoted_days as (
        select distinct copies.occurred_day as check_day
        from {{ duplicates }} as copies
        where copies.event_id in (
            select quarantined.event_id
            from {{ quarantine }} as quarantined
            where
                quarantined.rejection_reason = 'occurred_at: after as_of (in the future)'
                and quarantined.occurred_day in (select {{ clock_days }}.check_day from {{ clock_days }})
        )
    ),

    days_to_check as (
        select {{ clock_days }}.check_day from {{ clock_days }}
        union
        select promoted_days.check_day from promoted_days
    )
{%- endmacro %}
