{{ config(materialized='ephemeral') }}

-- Every raw outreach row normalised exactly as contract 004's RPC does (trim and blank as
-- macros/sql/blank.sql define them: Unicode whitespace and zero-width characters), with the first
-- rule it breaks and, for valid rows, its rank among rows with the same client_event_id
-- (macro outreach_checked_events, macros/outreach/outreach_incremental.sql).
-- Idempotency among valid rows: the first by created_at (ties: row id) of each
-- client_event_id has rank 1; later ones are duplicates of `kept_outreach_event_id`.
-- Ephemeral: it carries session ids and is never written on its own.

{{ outreach_checked_events() }}
