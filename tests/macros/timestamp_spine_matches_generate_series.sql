-- timestamp_spine (dbt.date_spine underneath) returns exactly what generate_series with an
-- exclusive end returns: aligned and unaligned ends, weeks, an empty and a reversed range.
-- Any row in one and not the other fails the test, naming the case.

{%- set cases = [
    ("'2026-10-01'", "'2026-10-03 00:00:00'", '1 hour'),
    ("'2026-10-01'", "'2026-10-02 17:30:00'", '1 hour'),
    ("'2026-10-01'", "'2026-10-29 00:00:00'", '1 day'),
    ("'2026-10-01'", "'2026-10-28 17:00:00'", '1 day'),
    ("'2026-10-05'", "'2026-10-14 00:00:00'", '7 days'),
    ("'2026-10-05'", "'2026-10-19 00:00:00'", '7 days'),
    ("'2026-10-05'", "'2026-10-05 00:00:00'", '1 day'),
    ("'2026-10-05'", "'2026-09-01 00:00:00'", '1 hour'),
] %}

with

{% for start_sql, stop_sql, step in cases %}
    spine_{{ loop.index }} as (
        {{ timestamp_spine(start_sql, stop_sql, step) }}
    ),

    expected_{{ loop.index }} as (
        select cast(series.bucket_start as timestamp) as bucket_start
        from
            generate_series(
                cast({{ start_sql }} as timestamp), cast({{ stop_sql }} as timestamp), interval '{{ step }}'
            ) as series (bucket_start)
        where series.bucket_start < cast({{ stop_sql }} as timestamp)
    ),

    compared_{{ loop.index }} as (
        select
            '{{ start_sql | replace("'", "") }} to {{ stop_sql | replace("'", "") }} by {{ step }}' as spine_case,
            spine.bucket_start as spine_bucket_start,
            expected.bucket_start as expected_bucket_start
        from spine_{{ loop.index }} as spine
        full outer join expected_{{ loop.index }} as expected on spine.bucket_start = expected.bucket_start
    ),

{% endfor %}
compared as (
    {% for _ in cases %}
        select * from compared_{{ loop.index }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    compared.spine_case,
    compared.spine_bucket_start,
    compared.expected_bucket_start
from compared
where compared.spine_bucket_start is null or compared.expected_bucket_start is null
