-- pgbench script for scripts/bench: the INSERT the license server runs for a mint
-- (app/src/db/licenses.rs::insert), one autocommit transaction per execution, same columns,
-- same ON CONFLICT and RETURNING list. The values the server computes in Rust (random license
-- key, signed blob) are computed here in SQL: a random unique key, and a blob of :bloblen
-- characters (scripts/bench passes the average length of the blobs the server just minted) and
-- :keyid (the server's key id). Run with -M prepared so it is a prepared statement, like sqlx's.
insert into licenses (license_key, name, email, tier, source, source_ref, notes,
                      issued_at, expires_at, key_id, blob)
values (md5(random()::text || clock_timestamp()::text), 'Bench Buyer', 'bench@example.com',
        'core', 'bench', null, 'wrk load test',
        date_trunc('second', now()), date_trunc('second', now()) + interval '1 year',
        :keyid, rpad('DTLIC2:', :bloblen, md5(random()::text)))
on conflict (source_ref) do nothing
returning license_key, name, email, tier, source, source_ref, notes, issued_at,
          expires_at, revoked_at, revoke_reason, key_id, blob;
