{#-
    Keyed hashes of spots_insights_v1, computed with a key that never appears in SQL text.

    The key (SPOTS_PSEUDONYM_KEY) is set on each DuckDB connection by the dbt-duckdb
    plugin `privacy_insights.dbt_plugin` as the variable `spots_pseudonym_key`; these
    macros read it with getvariable(). dbt writes compiled SQL to target/, logs, the
    manifest and the docs site, so a key rendered here would be written to all of them.
    A connection without the variable (the plugin missing from the profile) fails on
    the first row instead of hashing with a null key.

    On Spark the key is a one-row global temporary view, global_temp.spots_pseudonym_key,
    that `privacy-insights build --engine spark` creates in the SparkSession from the
    environment (privacy_insights.spark.split_build) before any model runs; SQL reads it
    with a scalar subquery. Not Spark's ${...} variable substitution: Spark substitutes
    before parsing, so a statement that fails to parse would print the key into dbt's log.
    A session without the view fails on the first statement ("TABLE_OR_VIEW_NOT_FOUND").
    The digest is the same hex SHA-256 as DuckDB's, so both engines give the same pseudonyms.

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

{% macro spark__keyed_hash(parts) -%}
    sha2(
        (select spots_pseudonym_key.pseudonym_key from global_temp.spots_pseudonym_key)
        {%- for part in parts %} || '|' || {{ part }}{% endfor %},
        256
    )
{%- endmacro %}

{% macro pseudonymize(identifier_sql) -%}
    {{ privacy_insights.keyed_hash([identifier_sql]) }}
{%- endmacro %}

{#-
    A number in [0, 1) from a keyed hash: the first 13 hex digits (52 bits) of
    keyed_hash(parts), scaled. Deterministic for a key, unpredictable without it.
    A double on every engine (DuckDB divides a bigint by that literal in doubles; Spark would
    use decimals), and exact: a 52-bit integer over 2^52.
-#}
{% macro keyed_uniform(parts) -%}
    {{ return(adapter.dispatch('keyed_uniform', 'privacy_insights')(parts)) }}
{%- endmacro %}

{% macro default__keyed_uniform(parts) -%}
    (cast(('0x' || substr({{ privacy_insights.keyed_hash(parts) }}, 1, 13)) as bigint) / 4503599627370496.0)
{%- endmacro %}

{% macro spark__keyed_uniform(parts) -%}
    (cast(conv(substr({{ privacy_insights.keyed_hash(parts) }}, 1, 13), 16, 10) as double) / cast(4503599627370496 as double))
{%- endmacro %}
