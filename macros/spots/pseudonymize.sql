{#-
    Keyed pseudonym of a person identifier: sha256(key || '|' || identifier).

    The key comes from the environment variable SPOTS_PSEUDONYM_KEY, so the pseudonym
    cannot be recomputed from a guessed user_id without it. The pseudonym is an internal
    join key: it lives in staging and intermediate models only and never reaches a mart.
    On the dev target a fixed development key is used when the variable is unset (with a
    warning); on any other target the variable is required.
    Note: dbt writes compiled SQL to target/; protect that folder like the key itself.
-#}
{% macro pseudonym_key() -%}
    {%- set key = env_var('SPOTS_PSEUDONYM_KEY', '') -%}
    {%- if key == '' -%}
        {%- if target.name == 'dev' -%}
            {%- if execute -%}{{ log("SPOTS_PSEUDONYM_KEY is not set: using the development key (dev target only)", info=true) }}{%- endif -%}
            {%- set key = 'development-only-pseudonym-key' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("SPOTS_PSEUDONYM_KEY: required on target '" ~ target.name ~ "' (a secret of at least 16 characters used to key participant pseudonyms)") }}
        {%- endif -%}
    {%- elif key | length < 16 -%}
        {{ exceptions.raise_compiler_error("SPOTS_PSEUDONYM_KEY: must be at least 16 characters") }}
    {%- endif -%}
    {{ return(key) }}
{%- endmacro %}

{% macro pseudonymize(identifier_sql) -%}
    sha256('{{ pseudonym_key() | replace("'", "''") }}' || '|' || {{ identifier_sql }})
{%- endmacro %}
