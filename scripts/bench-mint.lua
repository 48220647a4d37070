-- wrk script for scripts/bench: POST /internal/mint with the admin Bearer token.
--
-- The token comes from BENCH_ADMIN_TOKEN (a throwaway token scripts/bench generates). Every
-- request mints a new license (no source_ref), so each one is a signature plus one INSERT.
-- The body matches scripts/bench-insert.sql's literals so both sides write the same rows.
--
-- done() prints one machine-readable line that scripts/bench parses:
--   WRK_RESULT requests=N duration_us=N non2xx=N errors=N p50_us=N p90_us=N p99_us=N
--              mean_us=N max_us=N

local token = os.getenv("BENCH_ADMIN_TOKEN")
if token == nil or token == "" then
  error("BENCH_ADMIN_TOKEN is not set")
end

wrk.method = "POST"
wrk.path = "/internal/mint"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"Bench Buyer","email":"bench@example.com","tier":"core","years":1,'
  .. '"source":"bench","notes":"wrk load test"}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d non2xx=%d errors=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency.mean, latency.max))
end
