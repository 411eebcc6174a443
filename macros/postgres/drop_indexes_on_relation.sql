{#-
    Overrides dbt-duckdb's `drop_indexes_on_relation` (a root-project macro wins over the
    adapter's) on the postgres target only. dbt-duckdb drops every index of a table
    before renaming it out of the way, which DuckDB needs; through the attach it would
    also try `DROP INDEX` on a PostgreSQL primary key, which PostgreSQL refuses ("cannot
    drop index ... because constraint ... requires it"), so the second build of a mart
    with a primary key failed. PostgreSQL renames a table together with its indexes and
    drops them with the old table, so there is nothing to do there. Every other target
    runs dbt-duckdb 1.11's own body, unchanged.
-#}
{% macro drop_indexes_on_relation(relation) -%}
  {%- if privacy_insights.on_postgres() -%}
    {{ return('') }}
  {%- endif -%}
  {% call statement('get_indexes_on_relation', fetch_result=True, auto_begin=False) %}
    SELECT index_name
    FROM duckdb_indexes()
    WHERE database_name = '{{ relation.database }}'
      AND schema_name = '{{ relation.schema }}'
      AND table_name = '{{ relation.identifier }}'
  {% endcall %}

  {% set results = load_result('get_indexes_on_relation').table %}
  {% for row in results %}
    {% set index_name = row[0] %}
    {% call statement('drop_index_' + loop.index|string, auto_begin=false) %}
      DROP INDEX "{{ relation.database }}"."{{ relation.schema }}"."{{ index_name }}"
    {% endcall %}
  {% endfor %}
{%- endmacro %}
