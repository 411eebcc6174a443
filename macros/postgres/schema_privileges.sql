{#-
    Run `commands` (format strings taking the schema, then the role, both as %I) for every
    role of `roles` that exists, on every schema of `schemas` that exists: one statement per
    schema, sent serially from on-run-end hooks (two threads granting on one schema at once
    fail in PostgreSQL with "tuple concurrently updated").
-#}
{% macro on_schemas_for_roles(schemas, roles, commands) -%}
    {%- for schema in schemas -%}
        {%- set statement -%}
do $privileges$
declare
    v_role text;
begin
    if exists (select 1 from pg_namespace where nspname = {{ pg_literal(schema) }}) then
        for v_role in select rolname from pg_roles where rolname in ('{{ roles | join("', '") }}') loop
{%- for command in commands %}
            execute format({{ pg_literal(command) }}, {{ pg_literal(schema) }}, v_role);
{%- endfor %}
        end loop;
    end if;
end $privileges$;
        {%- endset -%}
        {%- do run_query("call postgres_execute('" ~ target.database ~ "', '" ~ (statement | replace("'", "''")) ~ "')") -%}
    {%- endfor -%}
{%- endmacro %}
