-- pgbench script for scripts/bench: the INSERT the license server runs to store a Gumroad delivery
-- (app/src/db/gumroad_events.rs::insert, first statement), one autocommit transaction per
-- execution, same columns, same ON CONFLICT on the partial dedupe index, same RETURNING. The
-- values the server copies out of the body are literals here; the sale_id is unique per
-- execution (as in bench-webhook.lua) and the raw body has :bodylen characters (the length of
-- the bodies wrk sends), stored as bytes like the server does. Run with -M prepared, like sqlx.
insert into gumroad_events (content_type, raw_body, sale_id, resource_name, product_id,
                            product_name, email, seller_id, subscription_id,
                            is_recurring_charge, test, retry_count, status, last_error,
                            duplicate_of)
values ('application/x-www-form-urlencoded',
        convert_to(rpad('sale_id=', :bodylen, md5(random()::text)), 'UTF8'),
        md5(random()::text || clock_timestamp()::text), 'sale', 'FO8TXN-dbxYaBdahG97Y-Q==',
        'DataTools Core (1 year)', 'bench@example.com', 'SeLLeR-1d==', null, false, false, 0,
        'received', null, null)
on conflict (sale_id, resource_name) where duplicate_of is null and not test do nothing
returning id;
