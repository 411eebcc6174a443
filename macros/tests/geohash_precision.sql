{#- Generic test: the column holds geohashes of exactly `precision` base-32 characters. -#}
{% test geohash_precision(model, column_name, precision) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not {{ matches_pattern(column_name, '[0123456789bcdefghjkmnpqrstuvwxyz]{' ~ precision ~ '}') }}
{% endtest %}
