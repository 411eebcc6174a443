{{ config(materialized='ephemeral') }}

-- Every raw SPOTS event with the first staging rule it breaks (null when it breaks none).
-- Ephemeral: it carries raw identifiers, so it is never written anywhere.
--
-- Rules, in order: identifiers present and not blank (blank = Unicode whitespace or
-- zero-width characters only, macro trim_blank); occurred_at present, finite, not before
-- var spots_occurred_at_floor (2000-01-01) and not after as_of (the run's "now"); a
-- location on the globe; event type, door type and category from the seeds.
-- Then, among rows that break no rule but the clock's, one row per event_id: the first by
-- ingested_at (ties: occurred_at, then the row's other fields, so the choice is stable and
-- the same at every as_of, which incremental staging relies on: a later clock never picks
-- another copy of an event already staged); the other copies get rejection_reason
-- 'event_id: duplicate ...' and is_duplicate, so
-- stg_spots__interaction_events (rejection_reason is null) sees each event once and
-- stg_spots__interaction_events_duplicates lists the copies.

{% set future_rule = 'occurred_at: after as_of (in the future)' %}

with

source as (
    select * from {{ source('spots', 'spots_interaction_events') }}
),

event_types as (
    select * from {{ ref('event_types') }}
),

door_types as (
    select * from {{ ref('door_types') }}
),

categories as (
    select * from {{ ref('categories') }}
),

checked as (
    select
        source.*,
        event_types.counts_as_door_opened,
        case
            when source.event_id is null or {{ trim_blank('source.event_id') }} = '' then 'event_id: missing'
            when source.user_id is null or {{ trim_blank('source.user_id') }} = '' then 'user_id: missing'
            when source.occurred_at is null then 'occurred_at: missing'
            when not {{ timestamp_is_finite('source.occurred_at') }} then 'occurred_at: not a finite timestamp'
            when
                {{ utc_timestamp('source.occurred_at') }}
                < cast('{{ var("spots_occurred_at_floor", "2000-01-01") }}' as timestamp)
                then 'occurred_at: before {{ var("spots_occurred_at_floor", "2000-01-01") }}'
            when {{ utc_timestamp('source.occurred_at') }} > cast('{{ as_of_timestamp() }}' as timestamp)
                then '{{ future_rule }}'
            when source.latitude is null or source.longitude is null then 'latitude/longitude: missing'
            when source.latitude not between -90 and 90 then 'latitude: outside [-90, 90]'
            when source.longitude not between -180 and 180 then 'longitude: outside [-180, 180]'
            when event_types.event_type is null then 'event_type: not in seed event_types'
            when door_types.door_type is null then 'door_type: not in seed door_types'
            when categories.category is null then 'category: not in seed categories'
        end as rule_broken
    from source
    left join event_types on source.event_type = event_types.event_type
    left join door_types on source.door_type = door_types.door_type
    left join categories on source.category = categories.category
),

{% set rankable = "(checked.rule_broken is null or checked.rule_broken = '" ~ future_rule ~ "')" %}
ranked as (
    select
        checked.*,
        case
            when {{ rankable }} then
                row_number() over (
                    partition by checked.event_id, {{ rankable }}
                    order by
                        checked.ingested_at nulls last,
                        checked.occurred_at,
                        checked.user_id,
                        checked.latitude,
                        checked.longitude,
                        checked.event_type, checked.door_type, checked.category, checked.message
                )
        end as event_id_rank
    from checked
)

-- the raw columns staging reads, as the source defines them (ephemeral, never written);
-- the other identifiers (agent, device, IP, AI signature) and the free text stop here
select
    ranked.event_id,
    ranked.user_id,
    ranked.event_type,
    ranked.counts_as_door_opened,
    ranked.door_type,
    ranked.category,
    ranked.occurred_at,
    ranked.latitude,
    ranked.longitude,
    ranked.ingested_at,
    coalesce(ranked.event_id_rank, 1) > 1 as is_duplicate,
    case
        when ranked.event_id_rank > 1 then 'event_id: duplicate (the first copy by ingested_at is kept)'
        else ranked.rule_broken
    end as rejection_reason
from ranked
