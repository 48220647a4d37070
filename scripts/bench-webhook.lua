-- wrk script for scripts/bench: POST /webhooks/gumroad?secret=... with a sale as Gumroad encodes
-- it (research/gumroad.md: %20 for spaces, nested keys with pre-escaped brackets, custom fields
-- twice, card fields). Every request is a NEW sale (unique sale_id per thread and request), so
-- each one is one INSERT into gumroad_events, as for real traffic.
--
-- BENCH_WEBHOOK_PATH is the path with the secret (scripts/bench sets it). done() prints the same
-- WRK_RESULT line as bench-mint.lua.

local path = os.getenv("BENCH_WEBHOOK_PATH")
if path == nil or path == "" then
  error("BENCH_WEBHOOK_PATH is not set")
end

local threads = {}
local requests = {}
local count = 0
local next_index = 0
-- Requests are built before the run (building one per call in Lua would make wrk, which shares
-- the CPUs with the server and Postgres, the bottleneck). More than a thread sends in a run, so
-- none repeats: every delivery is a new sale.
local PER_THREAD = 40000

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local rest = "&seller_id=SeLLeR-1d%3D%3D&product_id=FO8TXN-dbxYaBdahG97Y-Q%3D%3D"
  .. "&product_name=DataTools%20Core%20%281%20year%29&permalink=datatools"
  .. "&product_permalink=https%3A%2F%2Funalogix.gumroad.com%2Fl%2Fdatatools&short_product_id=dtcore"
  .. "&email=bench%40example.com&full_name=Jos%C3%A9%20%C3%91u%C3%B1ez&purchaser_id=1234567890"
  .. "&price=4900&gumroad_fee=539&currency=eur&quantity=1&discover_fee_charged=false"
  .. "&can_contact=true&referrer=direct&card%5Bvisual%5D=%2A%2A%2A%2A%20%2A%2A%2A%2A%20%2A%2A%2A%2A%204242"
  .. "&card%5Btype%5D=visa&card%5Bbin%5D=&card%5Bexpiry_month%5D=&card%5Bexpiry_year%5D="
  .. "&order_number=524459935&sale_timestamp=2026-01-01T15%3A50%3A55Z&variants%5B%5D=Blue"
  .. "&Company%20name=%C3%9Cn%C3%AFcode%20%26%20Co.&custom_fields%5BCompany%20name%5D=%C3%9Cn%C3%AFcode%20%26%20Co."
  .. "&license_key=85DB562A-C11D4B06-A2335A6B-8C079166&ip_country=United%20States"
  .. "&is_gift_receiver_purchase=false&refunded=false&disputed=false&dispute_won=false&resource_name=sale"

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  local prefix = string.format("bench-%d-%d-", tid or 0, math.random(1, 1e9))
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  for i = 1, PER_THREAD do
    requests[i] = wrk.format("POST", path, headers, "sale_id=" .. prefix .. i .. rest)
  end
  count = PER_THREAD
end

function request()
  next_index = next_index + 1
  if next_index > count then
    next_index = 1
  end
  return requests[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d non2xx=%d errors=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency.mean, latency.max))
end
