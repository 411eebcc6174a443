{#-
    Geohash of a point at the given precision (1..6), computed in SQL.

    A geohash interleaves longitude and latitude bisection bits (longitude first) and
    writes them five at a time in base 32. Each axis index is floor((x - min) / width),
    then corrected by one cell either way by comparing x with the cell edges; the edges
    (-180 + i * 360 / 2^n) are exact binary fractions, so the comparison reproduces the
    bisection exactly, including points on an edge (which go to the upper cell) and
    +180 / +90 (which stay in the last cell).
-#}
{% macro geohash(latitude, longitude, precision=3) -%}
    {{ return(adapter.dispatch('geohash', 'privacy_insights')(latitude, longitude, precision)) }}
{%- endmacro %}

{% macro default__geohash(latitude, longitude, precision) -%}
    {%- set bits = 5 * precision -%}
    {%- set lon_bits = (bits + 1) // 2 -%}
    {%- set lat_bits = bits // 2 -%}
    {%- set lon_width = 360.0 / (2 ** lon_bits) -%}
    {%- set lat_width = 180.0 / (2 ** lat_bits) -%}
    {%- set lon_i = privacy_insights._geohash_axis_index(longitude, -180.0, lon_width, 2 ** lon_bits) -%}
    {%- set lat_i = privacy_insights._geohash_axis_index(latitude, -90.0, lat_width, 2 ** lat_bits) -%}
    {#- bit k (from the most significant, k = 0) is a longitude bit when k is even; every
        term is parenthesised because `|` and `<<` share one precedence level in SQL -#}
    {%- set ns = namespace(terms=[]) -%}
    {%- for k in range(bits) -%}
        {%- if k % 2 == 0 -%}
            {%- set axis, shift = lon_i, lon_bits - 1 - (k // 2) -%}
        {%- else -%}
            {%- set axis, shift = lat_i, lat_bits - 1 - (k // 2) -%}
        {%- endif -%}
        {%- set ns.terms = ns.terms + ["((((" ~ axis ~ ") >> " ~ shift ~ ") & 1) << " ~ (bits - 1 - k) ~ ")"] -%}
    {%- endfor -%}
    {%- set code = "(" ~ (ns.terms | join(" | ")) ~ ")" -%}
    (
        {%- for c in range(precision) %}
        {% if not loop.first %}|| {% endif %}substr('0123456789bcdefghjkmnpqrstuvwxyz', cast(((({{ code }}) >> {{ 5 * (precision - 1 - c) }}) & 31) + 1 as integer), 1)
        {%- endfor %}
    )
{%- endmacro %}

{% macro _geohash_axis_index(x, lower, width, cells) -%}
    {%- set guess = "least(greatest(cast(floor((" ~ x ~ " - (" ~ lower ~ ")) / " ~ width ~ ") as bigint), 0), " ~ (cells - 1) ~ ")" -%}
    (case
        when {{ x }} < {{ lower }} + {{ guess }} * {{ width }} then greatest({{ guess }} - 1, 0)
        when {{ guess }} < {{ cells - 1 }} and {{ x }} >= {{ lower }} + ({{ guess }} + 1) * {{ width }} then {{ guess }} + 1
        else {{ guess }}
    end)
{%- endmacro %}
