# Gumroad webhook benchmark, sourced by scripts/bench after its mint runs; uses its variables
# (base, tmp, here, levels, seconds, warmup, ncpu, psql, PG_BIN, pg_dir, pg_port) and helpers (die, min).
#
# Per level: wrk (connections = level) POSTs new Gumroad sales to /webhooks/gumroad
# (scripts/bench-webhook.lua), then pgbench (clients = level, -M prepared) runs the same INSERT
# (scripts/bench-webhook.sql) on the same cluster. The server runs with DATATOOLS_GUMROAD_WORKERS=0,
# so what is measured is the acknowledgement path alone (authenticate, decode, store, answer 200):
# the events stay queued; nothing is minted or emailed during the runs.
#
# Prints deliveries/s, p50/p99 acknowledgement latency, pgbench tps and latency, and the ratio.

webhook_results=()
webhook_cpu=()
webhook_errors=0

# "rps p50_ms p99_ms requests non2xx errors busy% steal% server_us pg_us wrk_us other_us"
# (the CPU columns from scripts/bench's cpu_ticks / cpu_per_op)
run_webhook_wrk() {
  local c=$1 secs=$2 threads out line before after lg TIMEFORMAT='%U %S'
  threads="$(min "$c" "$ncpu")"
  before="$(cpu_ticks)"
  { time timeout $((secs + 30)) wrk -t "$threads" -c "$c" -d "${secs}s" --timeout 5s \
    -s "$here/bench-webhook.lua" "$base" >"$tmp/wrk-webhook.out" 2>&1; } 2>"$tmp/wrk-webhook.time" ||
    { cat "$tmp/wrk-webhook.out" >&2; die "wrk failed (webhook, c=$c)"; }
  after="$(cpu_ticks)"
  lg="$(awk '{ print $1 + $2 }' "$tmp/wrk-webhook.time")"
  out="$(cat "$tmp/wrk-webhook.out")"
  line="$(grep '^WRK_RESULT ' <<<"$out")" || { echo "$out" >&2; die "wrk printed no WRK_RESULT line"; }
  line="$(awk '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    ok = v["requests"] - v["non2xx"]
    printf "%.1f %.2f %.2f %d %d %d\n", ok / (v["duration_us"] / 1e6), v["p50_us"] / 1000,
      v["p99_us"] / 1000, v["requests"], v["non2xx"], v["errors"]
  }' <<<"$line")"
  echo "$line $(cpu_per_op "$before" "$after" "$lg" "$(awk '{ print $4 }' <<<"$line")")"
}

# "tps avg_ms p50_ms p99_ms transactions failed"
run_webhook_pgbench() {
  local c=$1 secs=$2 threads logdir out tps avg txns failed pct
  threads="$(min "$c" "$ncpu")"
  logdir="$tmp/pgbench-webhook-$c-$secs-$RANDOM"
  mkdir "$logdir"
  (cd "$logdir" && timeout $((secs + 60)) "$PG_BIN/pgbench" -h "$pg_dir" -p "$pg_port" -U postgres \
    -n -M prepared -c "$c" -j "$threads" -T "$secs" -l --log-prefix="$logdir/tx" \
    -D bodylen="$webhook_body_len" -f "$here/bench-webhook.sql" bench >"$tmp/pgbench-webhook.out" 2>&1) ||
    { cat "$tmp/pgbench-webhook.out" >&2; die "pgbench failed (webhook, c=$c)"; }
  out="$(cat "$tmp/pgbench-webhook.out")"
  tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")"
  avg="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out")"
  txns="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")"
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")"
  [[ -n $tps && -n $avg && -n $txns ]] || { echo "$out" >&2; die "cannot parse pgbench output"; }
  pct="$(cat "$logdir"/tx.* | awk '{print $3}' | sort -n | awk '{a[NR] = $1}
    END { p50 = a[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]; p99 = a[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
          printf "%.2f %.2f", p50 / 1000, p99 / 1000 }')"
  rm -rf "$logdir"
  printf '%.1f %.2f %s %s %s\n' "$tps" "$avg" "$pct" "$txns" "${failed:-0}"
}

run_webhook_bench() {
  export BENCH_WEBHOOK_PATH="/webhooks/gumroad?secret=$webhook_secret"
  # One delivery by hand: proves the secret, the body and the table before any load.
  local check
  check="$(curl -sS --max-time 5 -w '\n%{http_code}' -X POST "$base$BENCH_WEBHOOK_PATH" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary 'sale_id=bench-check&product_id=P&email=bench%40example.com')"
  [[ ${check##*$'\n'} == 200 && $check == *'"status":"received"'* ]] ||
    die "a test webhook delivery failed (HTTP ${check##*$'\n'}): ${check%$'\n'*}"
  local c out w_rps w_p50 w_p99 w_req w_non2xx w_err p_tps p_avg p_p50 p_p99 p_txn p_failed ratio
  for c in $levels; do
    if ((warmup > 0)); then
      echo "bench: c=$c webhook warm-up (${warmup} s)..." >&2
      run_webhook_wrk "$c" "$warmup" >/dev/null
    fi
    if [[ -z ${webhook_body_len:-} ]]; then
      webhook_body_len="$("${psql[@]}" -d bench -At -c \
        "select round(avg(length(raw_body)))::int from gumroad_events where sale_id like 'bench-%'")"
      [[ $webhook_body_len =~ ^[0-9]+$ ]] || webhook_body_len=1400
    fi
    echo "bench: c=$c webhook (wrk, ${seconds} s)..." >&2
    out="$(run_webhook_wrk "$c" "$seconds")"
    read -r w_rps w_p50 w_p99 w_req w_non2xx w_err w_cpu <<<"$out"
    webhook_cpu+=("$c $w_cpu")
    if ((warmup > 0)); then
      echo "bench: c=$c webhook pgbench warm-up (${warmup} s)..." >&2
      run_webhook_pgbench "$c" "$warmup" >/dev/null
    fi
    echo "bench: c=$c webhook pgbench (${seconds} s)..." >&2
    out="$(run_webhook_pgbench "$c" "$seconds")"
    read -r p_tps p_avg p_p50 p_p99 p_txn p_failed <<<"$out"
    ratio="$(awk -v a="$w_rps" -v b="$p_tps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
    webhook_results+=("$c $w_rps $w_p50 $w_p99 $p_tps $p_avg $p_p50 $p_p99 $ratio $w_req $w_non2xx $w_err $p_txn $p_failed")
    webhook_errors=$((webhook_errors + w_non2xx + w_err + p_failed))
  done
}

print_webhook_report() {
  local r c w_rps w_p50 w_p99 p_tps p_avg p_p50 p_p99 ratio w_req w_non2xx w_err p_txn p_failed rows
  rows="$("${psql[@]}" -d bench -At -c "select count(*) from gumroad_events")"
  echo
  echo "Webhook benchmark: POST /webhooks/gumroad (a new Gumroad sale per request, $webhook_body_len-byte"
  echo "form body) acknowledged after one INSERT into gumroad_events; DATATOOLS_GUMROAD_WORKERS=0, so"
  echo "nothing is processed during the runs. pgbench: -M prepared, scripts/bench-webhook.sql (same INSERT)."
  echo
  printf '%5s | %10s %9s %9s | %11s %8s %9s %9s | %9s\n' \
    "conc" "deliv/s" "p50 ms" "p99 ms" "pgbench tps" "avg ms" "p50 ms" "p99 ms" "hook/pgb"
  printf '%s\n' "------+-------------------------------+-----------------------------------------+----------"
  for r in "${webhook_results[@]}"; do
    read -r c w_rps w_p50 w_p99 p_tps p_avg p_p50 p_p99 ratio _ <<<"$r"
    printf '%5s | %10s %9s %9s | %11s %8s %9s %9s | %9s\n' \
      "$c" "$w_rps" "$w_p50" "$w_p99" "$p_tps" "$p_avg" "$p_p50" "$p_p99" "$ratio"
  done
  echo
  for r in "${webhook_results[@]}"; do
    read -r c _ _ _ _ _ _ _ _ w_req w_non2xx w_err p_txn p_failed <<<"$r"
    echo "c=$c: wrk $w_req deliveries ($w_non2xx non-2xx, $w_err socket errors); pgbench $p_txn transactions ($p_failed failed)"
  done
  echo "gumroad_events rows at the end: $rows (deliveries and pgbench inserts)"
  echo
  echo "CPU time per delivery in microseconds (as for the mint runs above)"
  printf '%5s | %5s %5s %7s %7s %7s %7s\n' "conc" "busy" "steal" "server" "pg" "wrk" "other"
  for r in "${webhook_cpu[@]}"; do
    read -r c wb ws wsrv wpg wwrk woth <<<"$r"
    printf '%5s | %4s%% %4s%% %7s %7s %7s %7s\n' "$c" "$wb" "$ws" "$wsrv" "$wpg" "$wwrk" "$woth"
  done
  for r in "${webhook_results[@]}"; do
    read -r c _ _ w_p99 _ <<<"$r"
    ok="$(awk -v x="$w_p99" 'BEGIN { print (x < 1000) ? 1 : 0 }')"
    echo "Aim: acknowledgement p99 well inside Gumroad's 5 s timeout (< 1 s) at $c concurrent: ${w_p99} ms -> $(verdict "$ok")"
  done
}
