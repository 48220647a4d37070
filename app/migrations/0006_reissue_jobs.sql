-- Re-issuing after a key rotation is a durable job (app/src/reissue/): one row per job and one
-- per license in it. Background workers re-sign and email each license and record every step
-- here, so a client's timeout, a crash or a restart loses nothing, and a later job takes exactly
-- what is still missing. Never edit a migration once it has been applied anywhere: add a new one.
create table reissue_jobs (
    id              bigint      generated always as identity primary key,
    -- The signing key the job re-signs with: the server's key when the job was created.
    key_id          text        not null,
    -- Whether each buyer is emailed the re-signed license.
    email           boolean     not null,
    -- running: items left; done: every item finished (done, failed or skipped); superseded: the
    -- server's key changed before it finished (a newer job takes over).
    state           text        not null default 'running'
        check (state in ('running', 'done', 'superseded')),
    -- Active licenses that already carried key_id and needed nothing when the job was created.
    already_current bigint      not null default 0,
    created_at      timestamptz not null default now(),
    finished_at     timestamptz
);

-- One running job at a time: a second request resumes it.
create unique index reissue_jobs_one_running_idx on reissue_jobs ((true)) where state = 'running';

create table reissue_items (
    id               bigint      generated always as identity primary key,
    job_id           bigint      not null references reissue_jobs (id),
    license_key      text        not null references licenses (license_key),
    -- pending: work left; processing: a worker holds it until lease_until; done; failed
    -- (failed_step and last_error say why); skipped (revoked or expired since the job started).
    status           text        not null default 'pending'
        check (status in ('pending', 'processing', 'done', 'failed', 'skipped')),
    -- Whether the license needed re-signing; false: an earlier re-issue re-signed it and only
    -- its email is missing.
    resign           boolean     not null,
    -- The license_reissues row holding the blob it replaced (this job's, or the earlier one).
    reissue_id       bigint      references license_reissues (id),
    resigned_at      timestamptz,
    emailed_at       timestamptz,
    email_to         text,
    email_message_id text,
    -- Set while the mail provider is asked to send; still set afterwards means the process
    -- died during the call, and the retry marks email_possibly_duplicated.
    email_sending_since       timestamptz,
    email_possibly_duplicated boolean not null default false,
    failed_step      text        check (failed_step in ('re-sign', 'email')),
    attempts         integer     not null default 0,
    next_attempt_at  timestamptz not null default now(),
    lease_until      timestamptz,
    last_error       text,
    finished_at      timestamptz,
    unique (job_id, license_key)
);

create index reissue_items_queue_idx on reissue_items (next_attempt_at)
    where status in ('pending', 'processing');
create index reissue_items_job_idx on reissue_items (job_id, status);
create index license_reissues_new_key_idx on license_reissues (new_key_id, license_key);
