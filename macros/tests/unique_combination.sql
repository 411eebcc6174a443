{#-
    Generic test: the combination of `columns` is unique (dbt-utils'
    unique_combination_of_columns, written here because the project has no Hub packages).
    Returns one row per repeated combination.
-#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
