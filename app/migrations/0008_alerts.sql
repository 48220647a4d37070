-- Alerts (issue 12): the problems the operator must hear about, the host's facts dtops reports,
-- and the Gumroad workers' heartbeats. The server's sentinel (app/src/alerts/) decides and mails.
-- Never edit a migration once it has been applied anywhere: add a new one.

-- One row per occurrence of a problem: open while the sentinel keeps seeing it (resolved_at
-- null), mailed once (notified_at), never again while it stays open. A problem that comes back
-- after it was resolved is a new row, and a new email.
create table alerts (
    id              bigint      generated always as identity primary key,
    -- What it is about, stable across passes: 'unknown_product:<product_id>',
    -- 'email_bounced:<event id>', 'backup_failed', ...
    key             text        not null,
    kind            text        not null,
    -- One sentence each, kept current by every pass: what is wrong, and the command to run.
    summary         text        not null,
    action          text        not null,
    first_seen_at   timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    -- When the email naming it was accepted by the mail provider.
    notified_at     timestamptz,
    -- Not mailed before this (a failed send is tried again later; a send in progress holds it).
    notify_after    timestamptz not null default now(),
    notify_error    text,
    -- `dtops alerts --ack ID`: the operator knows and leaves it; not counted by `dtops status`.
    acknowledged_at timestamptz,
    resolved_at     timestamptz
);

-- At most one open row per problem: the sentinel's insert-or-touch relies on it.
create unique index alerts_open_key_idx on alerts (key) where resolved_at is null;
create index alerts_recent_idx on alerts (first_seen_at desc);

-- The latest facts dtops sent about the host (backups, the certificate): one row, replaced by
-- each `POST /internal/host-report`.
create table host_reports (
    singleton   boolean     primary key default true check (singleton),
    received_at timestamptz not null,
    report      jsonb       not null
);

-- Each Gumroad worker writes its row every few seconds while its loop runs; a row left behind
-- means the worker stopped or is stuck. A worker that stops cleanly deletes its row.
create table worker_heartbeats (
    worker  text        primary key,
    beat_at timestamptz not null
);

-- Since when an event has been waiting for another attempt (set when it first goes to
-- 'retrying', kept through the attempts in between, cleared when it ends): "retrying for more
-- than N minutes" is measured from here.
alter table gumroad_events add column retrying_since timestamptz;
update gumroad_events set retrying_since = coalesce(processed_at, received_at)
    where status = 'retrying';
