-- Issue 20: the portal and the revocation feed under abuse. Expand-only (the previous release
-- keeps working on this schema during an upgrade). Never edit a migration once it has been
-- applied anywhere: add a new one.

-- Addresses are compared by one deliberate key everywhere: ASCII letters folded to lower case,
-- every other character exactly as typed (app/src/address.rs, `key`). Postgres' `lower()` under
-- the database's UTF-8 collation folds far more (the Kelvin sign U+212A becomes "k"), so the
-- look-ups use `lower(email collate "C")`, which changes ASCII letters only.
create index licenses_email_key_idx on licenses (lower(email collate "C"));
create index gumroad_events_email_key_idx on gumroad_events (lower(email collate "C"));

-- Sign-in link requests:
-- - `client_key`: the asking client's network address as nginx passed it (an IPv6 address cut
--   to its /64), what the per-client limits count;
-- - `sent_to`: the stored address the link was mailed to (a license's, never the typed one);
-- - `mailed_at`: when the sender took the link for mailing (its token and code were made): the
--   day's mail budget and the spacing of mails to one address count these;
-- - `superseded_at`: the address signed in with another of its links, so this one stopped
--   working (several links of one address may be live at once: a new request never cancels
--   the link a buyer already holds). Five wrong short codes now end the code only
--   (`code_hash` null), never the link, which only the mailbox's owner has;
-- - status `held`: not mailed, because this address was mailed a link moments before (the
--   buyer holds a live link; mails to one address are spaced, so nobody can flood a mailbox).
alter table portal_link_requests
    add column client_key    text,
    add column sent_to       text,
    add column mailed_at     timestamptz,
    add column superseded_at timestamptz;

alter table portal_link_requests drop constraint portal_link_requests_status_check;
alter table portal_link_requests add constraint portal_link_requests_status_check
    check (status in ('queued', 'processing', 'sent', 'held', 'no_licenses', 'failed'));

create index portal_link_requests_client_idx on portal_link_requests (client_key, requested_at)
    where client_key is not null;
-- The day's mail budget counts links mailed, found through this index.
create index portal_link_requests_mailed_idx on portal_link_requests (mailed_at)
    where mailed_at is not null;

-- Requests the limits refused, per minute and limit: the metric and the alert that say the
-- portal is being flooded. Swept with the requests (after a week).
create table portal_refusals (
    minute     timestamptz not null,
    limit_kind text        not null check (limit_kind in ('client', 'address', 'budget')),
    refused    bigint      not null default 0,
    primary key (minute, limit_kind)
);

-- A gift sale's giver, by address key, set when the delivery is stored (and, for deliveries
-- stored before this migration, by the server's portal sweep); '' for a delivery checked and
-- found not to be a gift. The portal finds an address's gifts through the index instead of
-- decoding every gift delivery on every page.
alter table gumroad_events add column gifter_key text;
create index gumroad_events_gifter_key_idx on gumroad_events (gifter_key)
    where gifter_key is not null and gifter_key <> '';

-- The revocation feed's sequence number, bumped once per statement instead of once per row:
-- revoking 100,000 licenses in one statement updated the one row 100,000 times (58 s). Each
-- statement sees the rows it changed in its transition tables. The bump also notifies
-- `datatools_revocations`, so every server process rebuilds its copy of the feed at once.
drop trigger if exists licenses_revocation_feed on licenses;
drop function if exists revocation_feed_bump();

create function revocation_feed_bump_statement() returns trigger
language plpgsql as $$
declare
    changed boolean;
begin
    if tg_op = 'INSERT' then
        select exists (select 1 from new_rows where revoked_at is not null) into changed;
    elsif tg_op = 'DELETE' then
        select exists (select 1 from old_rows where revoked_at is not null) into changed;
    else
        -- An update never changes license_key (the primary key of the feed's list), so the old
        -- and new rows pair up by it.
        select exists (
            select 1 from old_rows o join new_rows n using (license_key)
            where o.revoked_at is distinct from n.revoked_at
        ) into changed;
    end if;
    if changed then
        update revocation_feed
        set seq = greatest(seq + 1, (extract(epoch from clock_timestamp()) * 1000)::bigint),
            changed_at = now();
        perform pg_notify('datatools_revocations', '');
    end if;
    return null;
end;
$$;

-- Postgres allows transition tables only on single-event triggers: one trigger per event.
create trigger licenses_revocation_feed_insert
    after insert on licenses referencing new table as new_rows
    for each statement execute function revocation_feed_bump_statement();
create trigger licenses_revocation_feed_update
    after update on licenses referencing old table as old_rows new table as new_rows
    for each statement execute function revocation_feed_bump_statement();
create trigger licenses_revocation_feed_delete
    after delete on licenses referencing old table as old_rows
    for each statement execute function revocation_feed_bump_statement();
