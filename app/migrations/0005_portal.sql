-- PR 3: the buyer portal (sign-in links, sessions, its audit trail), address changes made by the
-- admin, and the sequence number of the public revocation feed. Never edit a migration once it
-- has been applied anywhere: add a new one.

-- Every sign-in link asked for, known address or not: the outbox the portal's background task
-- sends from, and the rows the per-address and global limits count. A row becomes a link when
-- it is sent: only then does it hold the hashes of its token and short code (never the token).
create table portal_link_requests (
    id              bigint      generated always as identity primary key,
    -- As typed (trimmed); `email_key` is its lower-case form, what limits and look-ups use.
    email           text        not null,
    email_key       text        not null,
    -- SHA-256 of the asking browser's CSRF cookie: the short code works only in that browser.
    browser_hash    bytea       not null,
    requested_at    timestamptz not null default now(),
    status          text        not null default 'queued'
        check (status in ('queued', 'processing', 'sent', 'no_licenses', 'failed')),
    attempts        integer     not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_until     timestamptz,
    token_hash      bytea       unique,
    code_hash       bytea,
    code_attempts   integer     not null default 0,
    expires_at      timestamptz,
    used_at         timestamptz,
    message_id      text,
    last_error      text,
    processed_at    timestamptz
);

create index portal_link_requests_email_idx on portal_link_requests (email_key, id desc);
create index portal_link_requests_requested_idx on portal_link_requests (requested_at);
create index portal_link_requests_browser_idx on portal_link_requests (browser_hash, id desc);
create index portal_link_requests_queue_idx on portal_link_requests (next_attempt_at)
    where status in ('queued', 'processing');

-- Signed-in browsers. The cookie holds a random id; only its SHA-256 is stored.
create table portal_sessions (
    id_hash      bytea       primary key,
    email_key    text        not null,
    created_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    link_request bigint      references portal_link_requests (id) on delete set null
);

create index portal_sessions_created_idx on portal_sessions (created_at);

-- What buyers did in the portal: sign-ins, sign-outs, licenses emailed again.
create table portal_audit (
    id          bigint      generated always as identity primary key,
    at          timestamptz not null default now(),
    email_key   text        not null,
    action      text        not null
        check (action in ('sign_in', 'sign_out', 'resend', 'resend_to_recipient')),
    license_key text        references licenses (license_key),
    detail      text
);

create index portal_audit_license_idx on portal_audit (license_key, at desc)
    where license_key is not null;

-- Gift purchases name the giver only in the raw body; the portal finds a giver's gifts through
-- this small index instead of reading every delivery.
create index gumroad_events_gift_idx on gumroad_events (id)
    where position('gifter_email' in raw_body) > 0;

-- Membership state: the latest cancellation / ended / restarted event of a subscription.
create index gumroad_events_subscription_state_idx
    on gumroad_events (subscription_id, received_at desc)
    where resource_name in ('cancellation', 'subscription_ended', 'subscription_restarted');

-- A license moved to another address by the admin (`POST /internal/licenses/{key}/email`): the
-- buyer asked, the operator checked, and the blob was re-signed with the new address. Both blobs
-- are kept.
create table license_email_changes (
    id          bigint      generated always as identity primary key,
    license_key text        not null references licenses (license_key),
    old_email   text        not null,
    new_email   text        not null,
    reason      text        not null,
    old_key_id  text        not null,
    old_blob    text        not null,
    new_key_id  text        not null,
    new_blob    text        not null,
    changed_at  timestamptz not null default now()
);

create index license_email_changes_license_idx on license_email_changes (license_key);

-- The revocation feed's sequence number: one row, bumped by the trigger below whenever a
-- license's revocation changes (revoked, reinstated, or a revoked license deleted), whoever made
-- the change. It grows by at least one, and is never below the change's time in milliseconds
-- since 1970, so it keeps growing after a database restore from an older backup.
create table revocation_feed (
    singleton  boolean     primary key default true check (singleton),
    seq        bigint      not null,
    changed_at timestamptz not null
);

insert into revocation_feed (seq, changed_at)
values ((extract(epoch from clock_timestamp()) * 1000)::bigint, now());

create function revocation_feed_bump() returns trigger
language plpgsql as $$
begin
    if (tg_op = 'DELETE' and old.revoked_at is not null)
       or (tg_op = 'UPDATE' and old.revoked_at is distinct from new.revoked_at)
       or (tg_op = 'INSERT' and new.revoked_at is not null) then
        update revocation_feed
        set seq = greatest(seq + 1, (extract(epoch from clock_timestamp()) * 1000)::bigint),
            changed_at = now();
    end if;
    return null;
end;
$$;

create trigger licenses_revocation_feed
    after insert or update of revoked_at or delete on licenses
    for each row execute function revocation_feed_bump();
