-- Every attempt at a Gumroad event, every replay asked for and every email sent about it, kept
-- in order: a retry, a replay or a resend adds to an event's history instead of overwriting
-- what happened before (the event's own columns still show the latest of each).
-- Never edit a migration once it has been applied anywhere: add a new one.
create table gumroad_event_history (
    id               bigint generated always as identity primary key,
    event_id         bigint      not null references gumroad_events (id) on delete cascade,
    at               timestamptz not null default now(),
    step             text        not null check (step in ('attempt', 'replay', 'email')),
    -- attempt: the event's attempt number it ended.
    attempt          integer,
    -- attempt: the event status it ended with; replay: the status it had when asked;
    -- email: the email status.
    status           text        not null,
    -- attempt: the outcome and the error; email: the error.
    detail           text,
    email_to         text,
    email_message_id text,
    -- email: why it was sent (purchase, renewal, test ping, resend by dtops, ...).
    email_purpose    text
);

create index gumroad_event_history_event_idx on gumroad_event_history (event_id, id);

-- Events processed before this migration keep their latest email and attempt as history, in
-- the order new events write them (the email, then the attempt that sent it).
insert into gumroad_event_history
    (event_id, at, step, attempt, status, detail, email_to, email_message_id)
select event_id, at, step, attempt, status, detail, email_to, email_message_id
from (
    select id as event_id, coalesce(emailed_at, processed_at, received_at) as at, 'email' as step,
           null::integer as attempt, email_status as status, email_error as detail, email_to,
           email_message_id, 0 as position
    from gumroad_events
    where email_status is not null
    union all
    select id, coalesce(processed_at, received_at), 'attempt', attempts, status,
           concat_ws('; ', outcome, last_error), null, null, 1
    from gumroad_events
    where status not in ('received', 'processing', 'duplicate') and attempts > 0
) as latest
order by event_id, position;
