-- The operator's desk (issue 19): licenses found by their Gumroad order number, and a history
-- of every revocation and reinstatement, whoever made it (dtops, a refund, a dispute, psql).
-- Numbered 0012: 0011 is reserved for another branch.
-- Never edit a migration once it has been applied anywhere: add a new one.

-- Gumroad's order number as a stored delivery's body holds it: form-encoded
-- `order_number=524459935`, or a JSON body's "order_number": 524459935 (or "524459935"). The
-- body is bytes (maybe not UTF-8): encode(..., 'escape') never fails, and the digits come
-- through as they are.
create function gumroad_order_number(body bytea, content_type text) returns text
    language sql immutable strict parallel safe
    as $$
    select case
        when content_type ilike '%json%'
            then substring(encode(body, 'escape') from '"order_number"\s*:\s*"?([0-9]+)')
        else substring(encode(body, 'escape') from '(?:^|&)order_number=([0-9]+)(?:&|$)')
    end
    $$;

-- Finds a sale's deliveries by order number without reading every body.
create index gumroad_events_order_number_idx
    on gumroad_events (gumroad_order_number(raw_body, content_type))
    where resource_name = 'sale' and not test;

-- One row per revocation or reinstatement, oldest first. A reinstatement's reason comes from
-- the transaction's `datatools.reinstate_reason` setting (the admin API sets it); without one
-- (a won dispute, psql) it names the revocation it lifted.
create table license_revocations (
    id          bigint generated always as identity primary key,
    license_key text        not null references licenses (license_key) on delete cascade,
    at          timestamptz not null default now(),
    action      text        not null check (action in ('revoked', 'reinstated')),
    reason      text        not null
);

create index license_revocations_license_idx on license_revocations (license_key, id);

-- Licenses revoked before this migration: their revocation, as recorded on the row.
insert into license_revocations (license_key, at, action, reason)
select license_key, revoked_at, 'revoked', coalesce(revoke_reason, '(no reason recorded)')
from licenses
where revoked_at is not null
order by revoked_at, id;

-- One statement per update, however many rows it changes (as the feed's trigger, 0010).
create function license_revocations_record() returns trigger
    language plpgsql
    as $$
    begin
        insert into license_revocations (license_key, at, action, reason)
        select n.license_key,
               coalesce(n.revoked_at, now()),
               case when n.revoked_at is null then 'reinstated' else 'revoked' end,
               case
                   when n.revoked_at is not null
                       then coalesce(n.revoke_reason, '(no reason given)')
                   else coalesce(nullif(current_setting('datatools.reinstate_reason', true), ''),
                                 'lifted the revocation "' || coalesce(o.revoke_reason, '') || '"')
               end
        from new_rows n
        join old_rows o on o.id = n.id
        where o.revoked_at is distinct from n.revoked_at
        order by n.id;
        return null;
    end
    $$;

create trigger licenses_revocation_history
    after update on licenses
    referencing old table as old_rows new table as new_rows
    for each statement execute function license_revocations_record();
