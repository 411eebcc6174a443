{{ config(materialized='ephemeral') }}

-- Every raw SPOTS event with the first staging rule it breaks (null when it breaks none),
-- its check day and, for later copies of an event_id, is_duplicate (macro
-- spots_checked_events in macros/spots/spots_checked_events.sql: the rules and the ranking).
-- Ephemeral: it carries raw identifiers, so it is never written anywhere.
-- stg_spots__interaction_events (rejection_reason is null) sees each event once and
-- stg_spots__interaction_events_duplicates lists the copies.

{{ spots_checked_events() }}
