-- spots_insights_v1 in the record shape of contract 000 §4.2, flat (one column per leaf,
-- prefixed by its parent: metrics are unprefixed, privacy.dp.* is privacy_dp_*). A union
-- of the three frozen release tables, so it is rebuilt without changing any value.
-- Exports read this model.

{% set releases = ['spots_insights_v1_hour', 'spots_insights_v1_day', 'spots_insights_v1_week'] %}

with

{% for release in releases %}
{{ release }} as (
    select * from {{ ref(release) }}
),
{% endfor %}

unioned as (
    {% for release in releases %}
    select * from {{ release }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from unioned
