{#-
    Spark: dbt-spark 1.11's dateadd for hours, minutes and seconds compiles to
    `cast(<interval> * 3600 as int)` without parentheses around the interval, so
    dbt.date_spine (interval `row_number() over (...) - 1`) steps by seconds, not hours
    (dbt-labs/dbt-adapters#1554). This project's macro takes dispatch precedence over
    dbt-spark's and calls it with the interval parenthesised.
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ return(dbt.spark__dateadd(datepart, '(' ~ interval ~ ')', from_date_or_timestamp)) }}
{%- endmacro %}
