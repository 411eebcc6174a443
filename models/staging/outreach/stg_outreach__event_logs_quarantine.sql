-- Outreach rows that break a contract-004 rule, with the contract's error code and the
-- rule. No session id or other client value is copied here.

with

checked as (
    select * from {{ ref('base_outreach__event_logs_checked') }}
    where rejection is not null
)

select
    outreach_event_id,
    created_at_utc,
    split_part(rejection, ':', 1) as error_code,
    trim(substr(rejection, strpos(rejection, ':') + 1)) as error_detail
from checked
