{#-
    The `context` segment of an event from its local timestamp: the part of the week in
    the place's local standard time (UTC + utc_offset_hours from city_definitions;
    daylight saving is not applied). Boundaries, as documented in seeds/contexts.csv:
      weekend  Saturday or Sunday, any hour
      morning  weekday 05:00-10:59
      midday   weekday 11:00-16:59
      evening  weekday 17:00-23:59
      unknown  weekday 00:00-04:59, or no local time (outside every city: no offset)
-#}
{% macro local_context(local_timestamp) -%}
    case
        when {{ local_timestamp }} is null then 'unknown'
        when {{ iso_day_of_week(local_timestamp) }} in (6, 7) then 'weekend'
        when extract(hour from {{ local_timestamp }}) between 5 and 10 then 'morning'
        when extract(hour from {{ local_timestamp }}) between 11 and 16 then 'midday'
        when extract(hour from {{ local_timestamp }}) between 17 and 23 then 'evening'
        else 'unknown'
    end
{%- endmacro %}

{#- Local standard time of a UTC timestamp, given the place's offset in (possibly fractional) hours. -#}
{% macro local_timestamp(utc_timestamp, utc_offset_hours) -%}
    {{ dbt.dateadd('minute', 'cast(round(' ~ utc_offset_hours ~ ' * 60) as integer)', utc_timestamp) }}
{%- endmacro %}
