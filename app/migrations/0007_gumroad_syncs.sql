-- Each `dtops gumroad sync` (app/src/gumroad/sync/): Gumroad's sales list read since a date, and
-- the deliveries the server never received stored from it into gumroad_events. A row is also the
-- hook for alerting (ADMIN.md): a finished sync with found > 0 means Gumroad's Pings missed
-- sales, and state 'failed' means the check itself did not run through. Never edit a migration
-- once it has been applied anywhere: add a new one.
create table gumroad_syncs (
    id           bigint      generated always as identity primary key,
    -- Sales made on this day (UTC) or later were asked for (Gumroad's `after`).
    since        date        not null,
    state        text        not null default 'running'
        check (state in ('running', 'done', 'failed')),
    started_at   timestamptz not null default now(),
    -- Moved on after each page; a running sync whose heartbeat is old was interrupted.
    heartbeat_at timestamptz not null default now(),
    finished_at  timestamptz,
    pages        integer     not null default 0,
    -- Sales Gumroad listed.
    seen         integer     not null default 0,
    -- Deliveries (a sale, its refund or dispute) the server already had.
    already_had  integer     not null default 0,
    -- Deliveries the server never received, stored by this sync: how many, and which
    -- ([{event_id, sale_id, resource, email, product_name, sale_time}]).
    found        integer     not null default 0,
    stored       jsonb       not null default '[]',
    -- Sales listed but not stored ([{sale_id, email, why}]): gifts.
    skipped      jsonb       not null default '[]',
    error        text
);

create index gumroad_syncs_started_idx on gumroad_syncs (started_at desc);

-- A sync asks whether a delivery of (sale_id, resource_name) was ever stored, test or not:
-- gumroad_events_sale_idx (sale_id) finds the few rows of a sale. (No index of its own: every
-- webhook delivery would pay for maintaining it.)
