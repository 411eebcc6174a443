-- The SPOTS loader's watermark (raw.spots_load_watermark, privacy_insights.landing): per
-- landing table, the instant before which every event has landed, as the loader states it.
-- Loader metadata, not events. A warehouse without the table has no watermark: zero rows
-- here, and the release holds every period (var landing_without_watermark).

{%- set watermark = source('spots', 'spots_load_watermark') %}
{%- set landed = adapter.get_relation(
    database=watermark.database, schema=watermark.schema, identifier=watermark.identifier
) if execute else none %}

{%- if landed is not none %}

    with

    source as (
        select * from {{ watermark }}
    ),

    renamed as (
        select
            cast(table_name as {{ dbt.type_string() }}) as table_name,
            {{ utc_timestamp('loaded_through') }} as loaded_through,
            {{ utc_timestamp('recorded_at') }} as recorded_at,
            cast(loader as {{ dbt.type_string() }}) as loader
        from source
        where loaded_through is not null
    )

    select * from renamed

{%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_timestamp() }}) as loaded_through,
        cast(null as {{ dbt.type_timestamp() }}) as recorded_at,
        cast(null as {{ dbt.type_string() }}) as loader
    where 1 = 0

{%- endif %}
