{#-
    Case mapping of the 26 ASCII letters only, every other character kept as it is
    (src/privacy_insights/textrules.py, which the PostgreSQL installer renders into the RPC).
    Never lower()/upper(): they fold look-alikes into ASCII (the Kelvin sign lower-cases to
    'k', the dotless 'ı' upper-cases to 'I'). The letters must equal textrules.ASCII_UPPER and
    textrules.ASCII_LOWER (tests_py/test_textrules.py).
-#}
{% macro ascii_upper_letters() %}{{ return('ABCDEFGHIJKLMNOPQRSTUVWXYZ') }}{% endmacro %}
{% macro ascii_lower_letters() %}{{ return('abcdefghijklmnopqrstuvwxyz') }}{% endmacro %}

{#- `expression` with A-Z lower-cased. -#}
{% macro ascii_lower(expression) -%}
    translate({{ expression }}, '{{ ascii_upper_letters() }}', '{{ ascii_lower_letters() }}')
{%- endmacro %}

{#- `expression` with a-z upper-cased. -#}
{% macro ascii_upper(expression) -%}
    translate({{ expression }}, '{{ ascii_lower_letters() }}', '{{ ascii_upper_letters() }}')
{%- endmacro %}
