{#-
    Post-hook for incremental Python models on dbt-duckdb 1.11: the adapter writes the
    model's new rows to a staging table `<model>__dbt_tmp<timestamp>` (a real table, since
    the frame is written on a second cursor) and, believing it temporary, never drops it,
    so every build left one behind. Drop every such table of this model, wherever DuckDB
    put it (the warehouse file, or the scratch file and the attached database on the
    PostgreSQL targets).
-#}
{% macro drop_python_temp_tables() -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select database_name, schema_name, table_name from duckdb_tables() "
            ~ "where starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')") -%}
        {%- for row in leftovers.rows -%}
            {%- do run_query('drop table if exists "' ~ row[0] ~ '"."' ~ row[1] ~ '"."' ~ row[2] ~ '"') -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
