-- Deliveries keep their body as the exact bytes that arrived: a NUL byte (which Postgres text
-- cannot hold) or invalid UTF-8 no longer stops a delivery from being stored.
-- A send that was started but never recorded (the process died during the mail provider's call)
-- is remembered, so the retry can say the buyer may receive the email twice.
-- Never edit a migration once it has been applied anywhere: add a new one.
alter table gumroad_events
    alter column raw_body type bytea using convert_to(raw_body, 'UTF8');

alter table gumroad_events
    add column email_sending_since timestamptz,
    add column email_possibly_duplicated boolean not null default false;
