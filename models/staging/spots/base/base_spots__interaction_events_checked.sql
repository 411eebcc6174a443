{{ config(materialized='ephemeral') }}

-- Every raw SPOTS event with the first staging rule it breaks (null when it breaks none).
-- Ephemeral: it carries raw identifiers, so it is never written anywhere.

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
            when source.event_id is null or trim(source.event_id) = '' then 'event_id: missing'
            when source.user_id is null or trim(source.user_id) = '' then 'user_id: missing'
            when source.occurred_at is null then 'occurred_at: missing'
            when source.latitude is null or source.longitude is null then 'latitude/longitude: missing'
            when source.latitude not between -90 and 90 then 'latitude: outside [-90, 90]'
            when source.longitude not between -180 and 180 then 'longitude: outside [-180, 180]'
            when event_types.event_type is null then 'event_type: not in seed event_types'
            when door_types.door_type is null then 'door_type: not in seed door_types'
            when categories.category is null then 'category: not in seed categories'
        end as rejection_reason
    from source
    left join event_types on source.event_type = event_types.event_type
    left join door_types on source.door_type = door_types.door_type
    left join categories on source.category = categories.category
)

select * from checked
