-- Every re-signing of a license with a new signing key (`dtops keys rotate --reissue`). The blob
-- it replaced is kept, so a key rotation never loses what a buyer was given. Never edit a
-- migration once it has been applied anywhere: add a new one.
create table license_reissues (
    id          bigint      generated always as identity primary key,
    license_key text        not null references licenses (license_key),
    old_key_id  text        not null,
    old_blob    text        not null,
    new_key_id  text        not null,
    new_blob    text        not null,
    reissued_at timestamptz not null default now(),
    -- When the buyer was emailed the new blob: null until the mailer sends it (see
    -- app/src/http/reissue.rs).
    emailed_at  timestamptz
);

create index license_reissues_license_key_idx on license_reissues (license_key);
