-- Every Gumroad Ping delivery that authenticated, stored before it is acknowledged, then
-- processed from the stored copy by the server's background worker (app/src/gumroad/).
-- Never edit a migration once it has been applied anywhere: add a new one.
create table gumroad_events (
    id                 bigint generated always as identity primary key,
    received_at        timestamptz not null default now(),
    content_type       text        not null default '',
    -- The body exactly as it arrived (form-encoded or JSON): processing and replays read it.
    raw_body           text        not null,
    -- Copied out of the body for the dedupe key and for finding events; null when absent.
    sale_id            text,
    -- 'sale' when the delivery has none (the Settings > Advanced Ping URL).
    resource_name      text        not null,
    product_id         text,
    product_name       text,
    email              text,
    seller_id          text,
    subscription_id    text,
    is_recurring_charge boolean    not null default false,
    -- Gumroad's "Send test ping" (a replay of the latest real sale): never a real license.
    test               boolean     not null default false,
    -- Gumroad's own retry counter (1..3 on its retries).
    retry_count        integer     not null default 0,
    -- A later delivery of the same (sale_id, resource_name): recorded, never processed.
    duplicate_of       bigint      references gumroad_events (id),
    status             text        not null default 'received'
        check (status in ('received', 'processing', 'retrying', 'done', 'failed', 'ignored',
                          'duplicate')),
    attempts           integer     not null default 0,
    -- The worker takes an event when this has passed (retries back off through it).
    next_attempt_at    timestamptz not null default now(),
    -- A worker holds an event in 'processing' until then; after that another may take it over.
    lease_until        timestamptz,
    last_error         text,
    -- What processing did, as a sentence for the operator.
    outcome            text,
    license_key        text        references licenses (license_key),
    email_status       text
        check (email_status in ('sent', 'retrying', 'failed', 'skipped')),
    email_to           text,
    email_message_id   text,
    email_error        text,
    emailed_at         timestamptz,
    processed_at       timestamptz
);

-- The dedupe: one event to process per (sale_id, resource_name). Every other delivery of it
-- (Gumroad's retries, the same ping twice at once, two app instances) is stored with
-- duplicate_of set. Test pings replay a real sale's id, so they are kept out of it.
create unique index gumroad_events_dedupe_idx on gumroad_events (sale_id, resource_name)
    where duplicate_of is null and not test;

-- The worker's queue.
create index gumroad_events_queue_idx on gumroad_events (next_attempt_at)
    where status in ('received', 'retrying', 'processing');

create index gumroad_events_received_idx on gumroad_events (received_at desc);
create index gumroad_events_sale_idx on gumroad_events (sale_id);
create index gumroad_events_subscription_idx on gumroad_events (subscription_id)
    where subscription_id is not null;
create index gumroad_events_email_lower_idx on gumroad_events (lower(email));
create index gumroad_events_license_idx on gumroad_events (license_key)
    where license_key is not null;
