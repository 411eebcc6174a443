{#-
    One definition of "blank" text (src/privacy_insights/textrules.py, which the PostgreSQL
    installer renders into the RPC): Unicode White_Space plus the zero-width characters.
    The code points below must equal textrules.BLANK_CODEPOINTS (tests_py/test_textrules.py).
-#}
{% macro blank_codepoints() -%}
    {{ return([9, 10, 11, 12, 13, 32, 133, 160, 5760, 6158, 8192, 8193, 8194, 8195, 8196, 8197, 8198,
               8199, 8200, 8201, 8202, 8203, 8204, 8205, 8232, 8233, 8239, 8287, 8288, 12288, 65279]) }}
{%- endmacro %}

{#- The set as a text expression: chr(9) || chr(10) || ... -#}
{% macro blank_chars() -%}
    {{ return(adapter.dispatch('blank_chars', 'privacy_insights')()) }}
{%- endmacro %}

{% macro default__blank_chars() -%}
    ({% for cp in blank_codepoints() %}chr({{ cp }}){% if not loop.last %} || {% endif %}{% endfor %})
{%- endmacro %}

{#- Spark's chr() takes the code point modulo 256, so the set is decoded from its UTF-8 bytes. -#}
{% macro spark__blank_chars() -%}
    {%- set hex = namespace(text='') -%}
    {%- for cp in blank_codepoints() -%}
        {%- if cp < 128 -%}
            {%- set utf8 = [cp] -%}
        {%- elif cp < 2048 -%}
            {%- set utf8 = [192 + cp // 64, 128 + cp % 64] -%}
        {%- else -%}
            {%- set utf8 = [224 + cp // 4096, 128 + (cp // 64) % 64, 128 + cp % 64] -%}
        {%- endif -%}
        {%- for byte in utf8 -%}{%- set hex.text = hex.text ~ '%02X' | format(byte) -%}{%- endfor -%}
    {%- endfor -%}
    decode(unhex('{{ hex.text }}'), 'UTF-8')
{%- endmacro %}

{#- `expression` without blank characters at either end. -#}
{% macro trim_blank(expression) -%}
    {{ return(adapter.dispatch('trim_blank', 'privacy_insights')(expression)) }}
{%- endmacro %}

{% macro default__trim_blank(expression) -%}
    trim({{ expression }}, {{ blank_chars() }})
{%- endmacro %}

{% macro spark__trim_blank(expression) -%}
    btrim({{ expression }}, {{ blank_chars() }})
{%- endmacro %}

{#- DuckDB: the same value, but the 31-character trim only where an end is not printable
    ASCII (33-126, never blank). Almost every identifier is skipped, which made the SPOTS
    validation several times faster at 10^6 events. -#}
{% macro duckdb__trim_blank(expression) -%}
    case
        when ascii({{ expression }}) between 33 and 126 and ascii(right({{ expression }}, 1)) between 33 and 126
            then {{ expression }}
        else trim({{ expression }}, {{ blank_chars() }})
    end
{%- endmacro %}

{#- True when `expression` contains a blank character anywhere (null stays null). -#}
{% macro has_blank(expression) -%}
    (length(translate({{ expression }}, {{ blank_chars() }}, '')) <> length({{ expression }}))
{%- endmacro %}
