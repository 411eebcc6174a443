-- The catalog-wide privilege suite (issue 26; docs/postgres_security.md), in pgTAP.
--
-- Run by pg_prove (tests_py/test_postgres_privileges.py) on a database where every part of
-- `privacy-insights postgres install` is installed, pgTAP is in schema `tap`, and the allow-list
-- (src/privacy_insights/postgres/privileges.yml) is loaded into schema `privileges_allowed` by
-- privacy_insights.postgres.privileges.write_to. Every check reads the whole catalog, so a new
-- object, grant or SECURITY DEFINER function is covered the moment it exists: one that is not
-- in the allow-list fails here. Runs in a transaction that is rolled back.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

begin;
set local search_path = tap, pg_catalog;
set local client_min_messages = warning;
set local jit = off;  -- the reach views look costly to the planner, and compiling them takes seconds

-- Every object of the installed schemas: relations (indexes too), functions, types, operators;
-- not what an extension brought.
create temporary view installed_objects as
with cfg as (select s.* from privileges_allowed.settings as s)
select o.kind, o.identity, o.owner, o.oid
from (
    select case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view'
                          when 'm' then 'materialized view' when 'f' then 'foreign table' when 'S' then 'sequence'
                          when 'i' then 'index' when 'I' then 'index' when 'c' then 'type' else 'relation ' || c.relkind::text
           end as kind,
           format('%I.%I', n.nspname, c.relname) as identity, c.relowner as owner, c.oid,
           'pg_class'::regclass as catalog
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where n.nspname::text = any ((select installed_schemas from cfg)::text[]) and c.relkind <> 't'
    union all
    select case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
           format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)), p.proowner, p.oid,
           'pg_proc'::regclass
    from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
    where n.nspname::text = any ((select installed_schemas from cfg)::text[])
    union all   -- types of their own (not a table's row type, not an array or multirange type)
    select 'type', format('%I.%I', n.nspname, t.typname), t.typowner, t.oid, 'pg_type'::regclass
    from pg_type as t join pg_namespace as n on n.oid = t.typnamespace
    where n.nspname::text = any ((select installed_schemas from cfg)::text[]) and t.typcategory <> 'A' and t.typtype <> 'm'
      and (t.typrelid = 0 or exists (select 1 from pg_class as c where c.oid = t.typrelid and c.relkind = 'c'))
    union all
    select 'operator', format('%I.%s(%s, %s)', n.nspname, o.oprname, o.oprleft::regtype, o.oprright::regtype),
           o.oprowner, o.oid, 'pg_operator'::regclass
    from pg_operator as o join pg_namespace as n on n.oid = o.oprnamespace
    where n.nspname::text = any ((select installed_schemas from cfg)::text[])
) as o
where not exists (select 1 from pg_depend as d where d.classid = o.catalog and d.objid = o.oid and d.deptype = 'e');

-- Objects an allow-list entry is written for: indexes follow their table, a composite type
-- stands for itself only when it is not a table's.
create temporary view listed_kinds(kind) as
values ('table'), ('view'), ('materialized view'), ('foreign table'), ('sequence'), ('function'), ('procedure'),
       ('aggregate'), ('type'), ('operator');

-- What each checked role reaches, as PostgreSQL decides it (through PUBLIC, memberships and
-- column grants too): in the installed schemas, on the database, and in every other schema
-- (outside = true) but the system's and the suite's own.
create temporary view actual_reach as
with cfg as (select s.* from privileges_allowed.settings as s),
roles as materialized (select unnest(cfg.roles) as role from cfg),
schemas as materialized (
    select n.oid, n.nspname, n.nspname::text = any (cfg.installed_schemas) as installed
    from pg_namespace as n, cfg
    where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
      and not n.nspname::text = any (cfg.excluded_schemas)
),
rels as materialized (
    select c.oid, format('%I.%I', s.nspname, c.relname) as identity, c.relkind, not s.installed as outside
    from pg_class as c join schemas as s on s.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
),
funcs as materialized (
    select p.oid, format('%I.%I(%s)', s.nspname, p.proname, oidvectortypes(p.proargtypes)) as identity,
           not s.installed as outside
    from pg_proc as p join schemas as s on s.oid = p.pronamespace
)
select r.role, x.identity, p.privilege, x.outside
from roles as r cross join rels as x
cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) as p(privilege)
where x.relkind <> 'S' and has_table_privilege(r.role, x.oid, p.privilege)
union all   -- column grants, when the table-wide privilege is not held: PRIVILEGE(col, ...)
select r.role, x.identity,
       p.privilege || '(' || (select string_agg(quote_ident(a.attname), ', ' order by a.attnum)
                              from pg_attribute as a
                              where a.attrelid = x.oid and a.attnum > 0 and not a.attisdropped
                                and has_column_privilege(r.role, x.oid, a.attnum, p.privilege)) || ')',
       x.outside
from roles as r cross join rels as x cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) as p(privilege)
where x.relkind <> 'S' and not has_table_privilege(r.role, x.oid, p.privilege)
  and has_any_column_privilege(r.role, x.oid, p.privilege)
union all
select r.role, x.identity, p.privilege, x.outside
from roles as r cross join rels as x cross join unnest(array['USAGE', 'SELECT', 'UPDATE']) as p(privilege)
where x.relkind = 'S' and has_sequence_privilege(r.role, x.oid, p.privilege)
union all
select r.role, f.identity, 'EXECUTE', f.outside
from roles as r cross join funcs as f
where has_function_privilege(r.role, f.oid, 'EXECUTE')
union all
select r.role, 'schema ' || s.nspname, p.privilege, not s.installed
from roles as r cross join schemas as s cross join unnest(array['USAGE', 'CREATE']) as p(privilege)
where has_schema_privilege(r.role, s.oid, p.privilege)
union all
select r.role, 'database', p.privilege, false
from roles as r cross join unnest(array['CREATE', 'TEMPORARY']) as p(privilege)
where has_database_privilege(r.role, current_database(), p.privilege);

select plan(18);

-- The owner role --------------------------------------------------------------------------------
select ok(
    (select not r.rolcanlogin and not r.rolsuper and not r.rolcreaterole and not r.rolcreatedb
            and not r.rolbypassrls and not r.rolreplication
     from pg_roles as r where r.rolname = (select owner from privileges_allowed.settings)),
    'the owner role exists, is NOLOGIN and has no attribute (superuser, createrole, createdb, bypassrls, replication)'
);
select is_empty(
    $$ select m.roleid::regrole::text as role, m.member::regrole::text as member
       from pg_auth_members as m
       where (select owner from privileges_allowed.settings) in (m.roleid::regrole::text, m.member::regrole::text) $$,
    'the owner role is a member of no role and no role is a member of it (no login reaches it but through its functions)'
);
select is_empty(
    $$ select kind, identity, pg_get_userbyid(owner) as owner from installed_objects
       where owner <> (select owner from privileges_allowed.settings)::regrole order by 1, 2 $$,
    'every object of the installed schemas is owned by the owner role (none by a superuser or the installer)'
);

-- The allow-list covers the catalog, and the catalog the allow-list --------------------------
select set_eq(
    $$ select kind, identity from installed_objects where kind in (select kind from listed_kinds) $$,
    $$ select kind, identity from privileges_allowed.objects where kind not in ('database', 'schema') $$,
    'every object of the installed schemas has an allow-list entry, and every entry exists'
);
select set_eq(
    $$ select o.identity from installed_objects as o join pg_proc as p on p.oid = o.oid
       where o.kind in ('function', 'procedure', 'aggregate') and p.prosecdef $$,
    $$ select identity from privileges_allowed.objects where security_definer $$,
    'the SECURITY DEFINER functions are exactly the allow-listed ones'
);

-- Functions -----------------------------------------------------------------------------------
select is_empty(
    $$ select o.identity, p.proconfig from installed_objects as o join pg_proc as p on p.oid = o.oid
       where o.kind in ('function', 'procedure') and p.prosecdef
         and not coalesce(p.proconfig @> array['search_path=pg_catalog, pg_temp'], false) $$,
    'every SECURITY DEFINER function sets search_path = pg_catalog, pg_temp (pg_temp explicitly last)'
);
select is_empty(
    $$ select o.identity, p.proconfig from installed_objects as o join pg_proc as p on p.oid = o.oid
       where o.kind in ('function', 'procedure')
         and not coalesce(p.proconfig @> array['search_path=pg_catalog, pg_temp'], false) $$,
    'every function, invoker ones too, sets search_path = pg_catalog, pg_temp'
);
select is_empty(
    $$ select o.identity, a.privilege_type from installed_objects as o join pg_proc as p on p.oid = o.oid
       cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
       where a.grantee = 0 $$,
    'no function of the installed schemas is executable by PUBLIC'
);
select is_empty(
    $$ select a.role, a.identity from actual_reach as a join installed_objects as o on o.identity = a.identity
       join pg_proc as p on p.oid = o.oid
       where p.prosecdef and a.privilege = 'EXECUTE' and a.role in ('public', 'anon', 'authenticated')
       except
       select r.role, r.identity from privileges_allowed.reach as r $$,
    'no SECURITY DEFINER function is executable by PUBLIC, anon or authenticated unless the allow-list says so'
);
select ok(
    exists (select 1 from pg_default_acl as d
            where d.defaclrole = (select owner from privileges_allowed.settings)::regrole
              and d.defaclobjtype = 'f' and d.defaclnamespace = 0
              and not exists (select 1 from aclexplode(d.defaclacl) as a where a.grantee = 0)),
    'functions the owner role creates start without EXECUTE for PUBLIC (ALTER DEFAULT PRIVILEGES)'
);

-- Tables and sequences --------------------------------------------------------------------------
select is_empty(
    $$ select o.kind, o.identity, a.privilege_type
       from installed_objects as o join pg_class as c on c.oid = o.oid
       cross join lateral (select c.relacl union all
                           select t.attacl from pg_attribute as t where t.attrelid = c.oid) as acl(acl)
       cross join lateral aclexplode(acl.acl) as a
       where a.grantee = 0 $$,
    'no table, view or sequence privilege (or column privilege) for PUBLIC'
);
select is_empty(
    $$ select o.identity from installed_objects as o join pg_class as c on c.oid = o.oid
       where o.kind = 'table' and not c.relrowsecurity $$,
    'row-level security is enabled on every table of the installed schemas'
);
select set_eq(
    $$ select o.identity from installed_objects as o join pg_class as c on c.oid = o.oid
       where o.kind = 'table' and c.relforcerowsecurity $$,
    $$ select identity from privileges_allowed.objects where rls_forced $$,
    'row-level security is forced on exactly the allow-listed tables'
);
select is_empty(
    $$ select o.identity, c.relforcerowsecurity as forced,
              exists (select 1 from pg_policy as p where p.polrelid = c.oid and p.polname = 'tenant_isolation_policy')
                  as has_tenant_policy
       from installed_objects as o join pg_class as c on c.oid = o.oid
       where o.kind = 'table'
         and (exists (select 1 from pg_attribute as a where a.attrelid = c.oid and a.attname = 'tenant_id')
              or o.identity in (select identity from privileges_allowed.objects where rls_forced))
         and not (c.relforcerowsecurity
                  and exists (select 1 from pg_policy as p
                              where p.polrelid = c.oid and p.polname = 'tenant_isolation_policy')) $$,
    'every tenant-scoped table (a tenant_id column, or forced in the allow-list) forces RLS and has tenant_isolation_policy'
);

-- Roles -----------------------------------------------------------------------------------------
select is_empty(
    $$ select r.rolname, r.rolsuper, r.rolbypassrls from pg_roles as r
       where r.rolname::text = any ((select roles from privileges_allowed.settings)::text[]) and (r.rolsuper or r.rolbypassrls) $$,
    'no checked role is a superuser or bypasses row-level security'
);
select set_eq(
    $$ select role, identity, privilege from actual_reach where not outside $$,
    $$ select role, identity, privilege from privileges_allowed.reach $$,
    'in the installed schemas and on the database, every checked role reaches exactly the allow-listed privileges'
);
select is_empty(
    $$ select a.role, a.identity, a.privilege from actual_reach as a
       where a.outside
         and not exists (
             select 1 from privileges_allowed.dbt_published as d
             where d.role = a.role
               and ((a.privilege = 'SELECT' and a.identity like quote_ident(d.schema) || '.%')
                    or (a.privilege = 'USAGE' and a.identity = 'schema ' || d.schema))) $$,
    'outside the installed schemas, a checked role reaches only the tables dbt publishes to it (dbt_published)'
);
select is_empty(
    $$ select a.role, a.identity, d.policy from actual_reach as a
       join privileges_allowed.restrictive_policies as d on d.role = a.role
       join pg_class as c on c.oid = a.identity::regclass
       where a.outside and a.privilege like 'SELECT%'
         and not (c.relrowsecurity and c.relforcerowsecurity
                  and exists (select 1 from pg_policy as p
                              where p.polrelid = c.oid and p.polname = d.policy and not p.polpermissive
                                and a.role::regrole = any (p.polroles))) $$,
    'a table that a role with a restrictive policy (the tenant BI logins) can read forces RLS and has that policy for it'
);

select * from finish();
rollback;
