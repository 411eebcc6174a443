{#-
    Geohash of a point at the given precision (1..6), computed in SQL.

    A geohash interleaves longitude and latitude bisection bits (longitude first) and
    writes them five at a time in base 32. Each axis index is floor((x - min) / width),
    then corrected by one cell either way by comparing x with the cell edges; the edges
    (-180 + i * 360 / 2^n) are exact binary fractions, so the comparison reproduces the
    bisection exactly, including points on an edge (which go to the upper cell) and
    +180 / +90 (which stay in the last cell).

    Each character covers a run of consecutive longitude bits and a run of consecutive
    latitude bits, so it is one lookup in a 32-character table built here (at compile
    time) from those two slices: the SQL names each axis index once per character, which
    keeps the compiled expression small (a precision-3 geohash is 6 axis references).
-#}
{% macro geohash(latitude, longitude, precision=3) -%}
    {{ return(adapter.dispatch('geohash', 'privacy_insights')(latitude, longitude, precision)) }}
{%- endmacro %}

{% macro default__geohash(latitude, longitude, precision) -%}
    {%- set alphabet = '0123456789bcdefghjkmnpqrstuvwxyz' -%}
    {%- set bits = 5 * precision -%}
    {%- set lon_bits = (bits + 1) // 2 -%}
    {%- set lat_bits = bits // 2 -%}
    {%- set lon_i = privacy_insights._geohash_axis_index(longitude, -180.0, 360.0 / (2 ** lon_bits), 2 ** lon_bits) -%}
    {%- set lat_i = privacy_insights._geohash_axis_index(latitude, -90.0, 180.0 / (2 ** lat_bits), 2 ** lat_bits) -%}
    {%- set ns = namespace(chars=[]) -%}
    {%- for c in range(precision) -%}
        {#- bits k = 5c .. 5c + 4 of the code (k = 0 most significant); k even: longitude bit
            k // 2 of the longitude index (from its most significant bit), k odd: latitude -#}
        {%- set lon_ks = [] -%}
        {%- set lat_ks = [] -%}
        {%- for k in range(5 * c, 5 * c + 5) -%}
            {%- do (lon_ks if k % 2 == 0 else lat_ks).append(k) -%}
        {%- endfor -%}
        {%- set n_lon, n_lat = lon_ks | length, lat_ks | length -%}
        {%- set lon_shift = lon_bits - 1 - (lon_ks[-1] // 2) -%}
        {%- set lat_shift = lat_bits - 1 - (lat_ks[-1] // 2) -%}
        {#- table[a * 2^n_lat + b]: the character of longitude slice a and latitude slice b -#}
        {%- set table = namespace(text='') -%}
        {%- for slice_lon in range(2 ** n_lon) -%}
            {%- for slice_lat in range(2 ** n_lat) -%}
                {%- set value = namespace(v=0) -%}
                {%- for k in range(5 * c, 5 * c + 5) -%}
                    {%- if k % 2 == 0 -%}
                        {%- set bit = (slice_lon // (2 ** (n_lon - 1 - lon_ks.index(k)))) % 2 -%}
                    {%- else -%}
                        {%- set bit = (slice_lat // (2 ** (n_lat - 1 - lat_ks.index(k)))) % 2 -%}
                    {%- endif -%}
                    {%- set value.v = value.v * 2 + bit -%}
                {%- endfor -%}
                {%- set table.text = table.text ~ alphabet[value.v] -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set lon_slice = "(" ~ privacy_insights.shift_right(lon_i, lon_shift) ~ " & " ~ (2 ** n_lon - 1) ~ ")" -%}
        {%- set lat_slice = "(" ~ privacy_insights.shift_right(lat_i, lat_shift) ~ " & " ~ (2 ** n_lat - 1) ~ ")" -%}
        {%- set ns.chars = ns.chars + ["substr('" ~ table.text ~ "', cast(" ~ lon_slice ~ " * " ~ (2 ** n_lat)
                                        ~ " + " ~ lat_slice ~ " + 1 as integer), 1)"] -%}
    {%- endfor -%}
    ({{ ns.chars | join('\n        || ') }})
{%- endmacro %}

{% macro _geohash_axis_index(x, lower, width, cells) -%}
    {%- set guess = "least(greatest(cast(floor((" ~ x ~ " - (" ~ lower ~ ")) / " ~ width ~ ") as bigint), 0), " ~ (cells - 1) ~ ")" -%}
    (case
        when {{ x }} < {{ lower }} + {{ guess }} * {{ width }} then greatest({{ guess }} - 1, 0)
        when {{ guess }} < {{ cells - 1 }} and {{ x }} >= {{ lower }} + ({{ guess }} + 1) * {{ width }} then {{ guess }} + 1
        else {{ guess }}
    end)
{%- endmacro %}

{#- `integer` shifted right by `bits` (Spark 3.5 has no >> operator). -#}
{% macro shift_right(integer, bits) -%}
    {{ return(adapter.dispatch('shift_right', 'privacy_insights')(integer, bits)) }}
{%- endmacro %}

{% macro default__shift_right(integer, bits) -%}
    ({{ integer }} >> {{ bits }})
{%- endmacro %}

{% macro spark__shift_right(integer, bits) -%}
    shiftright({{ integer }}, {{ bits }})
{%- endmacro %}
