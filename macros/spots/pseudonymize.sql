{#-
    Keyed hashes of spots_insights_v1, computed with a key that never appears in SQL text.

    The key (SPOTS_PSEUDONYM_KEY) is set on each DuckDB connection by the dbt-duckdb
    plugin `privacy_insights.dbt_plugin` as the variable `spots_pseudonym_key`; these
    macros read it with getvariable(). dbt writes compiled SQL to target/, logs, the
    manifest and the docs site, so a key rendered here would be written to all of them.
    A connection without the variable (the plugin missing from the profile) fails on
    the first row instead of hashing with a null key.

    keyed_hash(parts): sha256(key || '|' || part1 || '|' || part2 ...), hex text.
    pseudonymize(identifier): the participant pseudonym, sha256(key || '|' || identifier)
        (the same value the project produced when the key was rendered into SQL).
-#}
{% macro keyed_hash(parts) -%}
    {{ return(adapter.dispatch('keyed_hash', 'privacy_insights')(parts)) }}
{%- endmacro %}

{% macro default__keyed_hash(parts) -%}
    sha256(
        coalesce(
            getvariable('spots_pseudonym_key'),
            error('SPOTS_PSEUDONYM_KEY: not set on this connection (the profile must load the dbt-duckdb plugin privacy_insights.dbt_plugin)')
        )
        {%- for part in parts %} || '|' || {{ part }}{% endfor %}
    )
{%- endmacro %}

{% macro pseudonymize(identifier_sql) -%}
    {{ privacy_insights.keyed_hash([identifier_sql]) }}
{%- endmacro %}

{#-
    A number in [0, 1) from a keyed hash: the first 13 hex digits (52 bits) of
    keyed_hash(parts), scaled. Deterministic for a key, unpredictable without it.
-#}
{% macro keyed_uniform(parts) -%}
    {{ return(adapter.dispatch('keyed_uniform', 'privacy_insights')(parts)) }}
{%- endmacro %}

{% macro default__keyed_uniform(parts) -%}
    (cast(('0x' || substr({{ privacy_insights.keyed_hash(parts) }}, 1, 13)) as bigint) / 4503599627370496.0)
{%- endmacro %}
