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

{%- for start_sql, stop_sql, step in cases %}
(
    with

    spine as (
        {{ timestamp_spine(start_sql, stop_sql, step) }}
    ),

    expected as (
        select cast(series.bucket_start as timestamp) as bucket_start
        from generate_series(
            cast({{ start_sql }} as timestamp), cast({{ stop_sql }} as timestamp), interval '{{ step }}'
        ) as series (bucket_start)
        where series.bucket_start < cast({{ stop_sql }} as timestamp)
    ),

    differences as (
        (select spine.bucket_start, 'only in timestamp_spine' as side from spine
            except select expected.bucket_start, 'only in timestamp_spine' as side from expected)
        union all
        (select expected.bucket_start, 'only in generate_series' as side from expected
            except select spine.bucket_start, 'only in generate_series' as side from spine)
    )

    select
        '{{ start_sql | replace("'", "") }} to {{ stop_sql | replace("'", "") }} by {{ step }}' as spine_case,
        differences.side,
        differences.bucket_start
    from differences
)
{% if not loop.last %}union all{% endif %}
{%- endfor %}
