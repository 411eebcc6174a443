{#-
    The hand-off of the split build (docs/spark.md): Spark builds the event-scale half
    (SPOTS staging and the intermediate models up to the cell aggregates) and writes two
    count tables as Parquet, with a manifest; a DuckDB build then reads them as views and
    runs the release step, the ledger, the marts and the contract tests unchanged.

    What crosses is bounded by the public cell domain and by days x hours, never by events,
    and carries no per-person row:
      cell_aggregates      int_spots__cell_aggregates
      door_open_arrivals   int_spots__door_open_arrivals (for int_spots__late_arrivals)
      landing_completeness int_spots__landing_completeness (the loader's watermark: one row)
    Timestamps are written zone-less (Spark TIMESTAMP_NTZ, Parquet isAdjustedToUTC=false),
    so DuckDB reads UTC wall times as TIMESTAMP and no cast can shift them by a zone.

    The manifest (one JSON line in <dir>/manifest/) holds the vars the aggregates depend on
    (as_of, reporting_delay_hours, release_start_date) and an MD5 hash of the bounding and domain
    parameters (spots_handoff_manifest below). The DuckDB side computes the same values from
    its own vars and refuses a hand-off whose manifest differs, naming each field.

    On DuckDB, var spots_handoff_dir (an absolute folder) switches the two models to views
    over the files; unset (the default) they are built from staging as usual.
-#}

{#- The hand-off folder of this build, or none (var spots_handoff_dir). -#}
{% macro spots_handoff_dir() -%}
    {%- set folder = var('spots_handoff_dir', none) -%}
    {{ return((folder | string | trim) if folder else none) }}
{%- endmacro %}

{#- Each table that crosses, its columns and their types. -#}
{% macro spots_handoff_tables() -%}
    {{ return({
        'int_spots__cell_aggregates': {
            'folder': 'cell_aggregates',
            'columns': [
                ('granularity', 'string'), ('period_start', 'timestamp'), ('level', 'string'),
                ('time_bucket_start_utc', 'timestamp'),
                ('geo_bucket_type', 'string'), ('geo_bucket_id', 'string'), ('door_type', 'string'),
                ('category', 'string'), ('context', 'string'), ('participants', 'bigint'),
                ('doors_opened', 'bigint'), ('repeaters', 'bigint'), ('aggregated_at', 'timestamp'),
            ],
        },
        'int_spots__door_open_arrivals': {
            'folder': 'door_open_arrivals',
            'columns': [
                ('day_start', 'timestamp'), ('week_start', 'timestamp'), ('ingested_hour_start', 'timestamp'),
                ('door_open_events', 'bigint'),
            ],
        },
        'int_spots__landing_completeness': {
            'folder': 'landing_completeness',
            'columns': [
                ('loaded_through', 'timestamp'), ('complete_through', 'timestamp'), ('completeness', 'string'),
                ('grace_hours', 'bigint'),
            ],
        },
    }) }}
{%- endmacro %}

{#-
    What the aggregates were computed with, as strings: the manifest Spark writes and the
    values the DuckDB side expects. parameters_md5 covers the bounding parameters (the
    enabled granularities and their max_opens_per_participant, each level's max_cells_per_participant),
    the staging rules' floor
    and the contents of the seeds the staging rules and the cell domain are built from.
-#}
{% macro spots_handoff_manifest() -%}
    {%- set release = var('spots_release') -%}
    {%- set bounding = [] -%}
    {%- for granularity in spots_enabled_granularities() -%}
        {%- do bounding.append(granularity ~ ':M=' ~ spots_release_param(granularity, 'max_opens_per_participant')) -%}
    {%- endfor -%}
    {%- for level in spots_levels('day') -%}
        {%- do bounding.append(level ~ ':C=' ~ spots_release_level_param(level, 'max_cells_per_participant')) -%}
    {%- endfor -%}
    {%- set seed_checksums = [] -%}
    {%- for seed in ['categories', 'city_definitions', 'city_geohash3_map', 'contexts', 'door_types', 'event_types'] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.name == seed -%}
            {%- do seed_checksums.append(seed ~ '=' ~ node.checksum.checksum) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set parameters = bounding | join(',') ~ ';floor=' ~ var('spots_occurred_at_floor', '2000-01-01')
        ~ ';release_start_date=' ~ var('release_start_date') ~ ';landing_grace_hours=' ~ landing_grace_hours()
        ~ ';landing_without_watermark=' ~ landing_without_watermark() ~ ';' ~ seed_checksums | join(',') -%}
    {{ return({
        'format_version': '1',
        'as_of': as_of_timestamp(),
        'reporting_delay_hours': reporting_delay_hours() | string,
        'release_start_date': var('release_start_date') | string,
        'parameters_md5': local_md5(parameters),
    }) }}
{%- endmacro %}

{#-
    Write the hand-off into `folder`, which must exist and be empty (run by
    `privacy-insights build --engine spark`, which then moves the complete folder into
    place). Spark writes it on the split build; DuckDB can write one too (a hand-off
    between two DuckDB warehouses, and the tests of the manifest check).
-#}
{% macro spots_write_handoff(folder) -%}
    {%- for model, table in spots_handoff_tables().items() -%}
        {%- set relation = spots_model_relation(model) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error("spots hand-off: " ~ model ~ " is not built on this target; build the selector spots_event_scale first") }}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for name, type in table.columns -%}
            {%- do columns.append('cast(' ~ name ~ ' as ' ~ spots_handoff_type(type) ~ ') as ' ~ name) -%}
        {%- endfor -%}
        {%- do run_query(spots_write_files('select ' ~ columns | join(', ') ~ ' from ' ~ relation, folder ~ '/' ~ table.folder, 'parquet')) -%}
    {%- endfor -%}
    {%- set fields = [] -%}
    {%- for name, value in spots_handoff_manifest().items() -%}
        {%- do fields.append("'" ~ value ~ "' as " ~ name) -%}
    {%- endfor -%}
    {%- do run_query(spots_write_files('select ' ~ fields | join(', '), folder ~ '/manifest', 'json')) -%}
    {{ log("spots hand-off written to " ~ folder, info=true) }}
{%- endmacro %}

{#- The hand-off type of a column: zone-less timestamps (Spark TIMESTAMP_NTZ; DuckDB's TIMESTAMP is zone-less). -#}
{% macro spots_handoff_type(type) -%}
    {{ return(adapter.dispatch('spots_handoff_type', 'privacy_insights')(type)) }}
{%- endmacro %}

{% macro default__spots_handoff_type(type) -%}
    {{ return(type) }}
{%- endmacro %}

{% macro spark__spots_handoff_type(type) -%}
    {{ return('timestamp_ntz' if type == 'timestamp' else type) }}
{%- endmacro %}

{#- The statement that writes the rows of `select_sql` as files of `file_format` (parquet, json) into the new folder `folder`. -#}
{% macro spots_write_files(select_sql, folder, file_format) -%}
    {{ return(adapter.dispatch('spots_write_files', 'privacy_insights')(select_sql, folder, file_format)) }}
{%- endmacro %}

{% macro default__spots_write_files(select_sql, folder, file_format) -%}
    copy ({{ select_sql }}) to '{{ folder }}' (format {{ file_format }}, per_thread_output true)
{%- endmacro %}

{% macro spark__spots_write_files(select_sql, folder, file_format) -%}
    insert overwrite directory '{{ folder }}' using {{ file_format }} {{ select_sql }}
{%- endmacro %}

{#- DuckDB: the view over a hand-off table, after checking the manifest against this build's vars. -#}
{% macro spots_handoff_select(model) -%}
    {%- set folder = spots_handoff_dir() -%}
    {%- set table = spots_handoff_tables()[model] -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from glob('" ~ folder ~ "/manifest/*.json')").rows[0][0] -%}
        {%- if found != 1 -%}
            {{ exceptions.raise_compiler_error("spots hand-off " ~ folder ~ ": expected one manifest file in manifest/, found " ~ found ~ " (write the hand-off with `privacy-insights build --engine spark`)") }}
        {%- endif -%}
        {%- set expected = spots_handoff_manifest() -%}
        {%- set columns = [] -%}
        {%- for name in expected -%}{%- do columns.append("'" ~ name ~ "': 'varchar'") -%}{%- endfor -%}
        {%- set manifest = run_query("select * from read_json('" ~ folder ~ "/manifest/*.json', format = 'newline_delimited', columns = {"
            ~ columns | join(', ') ~ "})") -%}
        {%- set mismatches = [] -%}
        {%- for name, value in expected.items() -%}
            {%- set written = manifest.rows[0][name] -%}
            {%- if written != value -%}
                {%- do mismatches.append(name ~ " is '" ~ written ~ "' in the hand-off but '" ~ value ~ "' in this build") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if mismatches -%}
            {{ exceptions.raise_compiler_error("spots hand-off " ~ folder ~ " does not match this build's vars: " ~ mismatches | join('; ')
                ~ ". Rebuild the Spark half with the same vars (privacy-insights build --engine spark) or run this build with the hand-off's.") }}
        {%- endif -%}
    {%- endif %}
    select
        {%- for name, type in table.columns %}
        cast({{ name }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from read_parquet('{{ folder }}/{{ table.folder }}/*.parquet')
{%- endmacro %}

{#- Spark: the raw SPOTS source as a table over Parquet files in `folder` (the files stay where they are),
    and its loader's watermark over `watermark_folder` (none: the source has no watermark, the table is dropped). -#}
{% macro spots_register_raw_parquet(folder, watermark_folder=none) -%}
    {%- for identifier, location in [('spots_interaction_events', folder), ('spots_load_watermark', watermark_folder)] -%}
        {%- set relation = api.Relation.create(schema=var('raw_schema'), identifier=identifier) -%}
        {%- do run_query('create schema if not exists ' ~ relation.schema) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- if location -%}
            {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ location ~ "'") -%}
            {{ log("raw source " ~ relation ~ " registered over " ~ location, info=true) }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
