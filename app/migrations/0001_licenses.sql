-- Licenses minted by the server. Never edit a migration once it has been applied anywhere:
-- add a new one.
create table licenses (
    id            bigint generated always as identity primary key,
    license_key   text        not null unique,
    name          text        not null,
    email         text        not null,
    tier          text        not null,
    source        text        not null,
    -- Identifies the event that caused the mint (e.g. a Gumroad sale), so an integration that
    -- delivers the same event twice gets the same license back instead of a second one.
    source_ref    text        unique,
    notes         text        not null default '',
    issued_at     timestamptz not null,
    -- null: perpetual
    expires_at    timestamptz,
    revoked_at    timestamptz,
    revoke_reason text,
    key_id        text        not null,
    blob          text        not null,
    created_at    timestamptz not null default now()
);

create index licenses_email_lower_idx on licenses (lower(email));
