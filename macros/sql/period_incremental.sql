{#-
    The config of a model that is incremental by period (`period_column`, a timestamp): each
    build rewrites whole periods, and every other period stays as it is.
    DuckDB and PostgreSQL: delete+insert on the period column.
    Spark: the table is partitioned by the period column (Parquet) and a build overwrites the
    partitions it writes (insert_overwrite; the spark target sets
    spark.sql.sources.partitionOverwriteMode to dynamic, so the other partitions stay).
    Use: {{ config(**period_incremental('day_start')) }}
-#}
{% macro period_incremental(period_column) -%}
    {{ return(adapter.dispatch('period_incremental', 'privacy_insights')(period_column)) }}
{%- endmacro %}

{% macro default__period_incremental(period_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': period_column,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__period_incremental(period_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [period_column],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}
