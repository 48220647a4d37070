# Continuous archiving's cost, sourced by scripts/bench when BENCH_ARCHIVE=1; uses its variables
# (tmp, pg_dir, pg_port, psql, seconds) and helpers (die).
#
# The cluster then runs as it does on a box with [archive]: wal_level=replica, archive_mode=on,
# archive_timeout=60, and pgBackRest (the host's) pushing every segment asynchronously into two
# repositories configured as dtops renders them: repo1 plain (the box's), repo2 encrypted
# (aes-256-cbc) and bundled, standing in for the off-site store (a directory here: no network in
# the measurement), both zstd-compressed. Compare the mint numbers with a run without
# BENCH_ARCHIVE for the CPU and throughput cost.
#
# After the load runs it measures the idle box: BENCH_ARCHIVE_IDLE seconds (default 180) with
# one small write every 15 s (the api's Gumroad workers beat that often, so a real box is never
# quite idle), then prints the archive's growth per day, idle and under the load.

archive_idle="${BENCH_ARCHIVE_IDLE:-180}"
[[ $archive_idle =~ ^[0-9]+$ && $archive_idle -le 3600 ]] ||
  die "BENCH_ARCHIVE_IDLE must be 0-3600 seconds, got '$archive_idle'"

# The settings the cluster starts with (archive_mode needs a restart; the command comes later).
archive_settings=(--setting wal_level=replica --setting archive_mode=on --setting archive_timeout=60)

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The repositories, pgBackRest's configuration and the stanza; then archiving on.
start_archiving() {
  command -v pgbackrest >/dev/null || die "BENCH_ARCHIVE=1 needs pgbackrest (apt-get install -y pgbackrest)"
  local dir="$tmp/archive"
  mkdir -p "$dir"/{repo1,repo2,spool,log,lock}
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$dir"
  cat >"$dir/pgbackrest.conf" <<CONF
[global]
repo1-path=$dir/repo1
repo2-type=posix
repo2-path=$dir/repo2
repo2-cipher-type=aes-256-cbc
repo2-cipher-pass=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
repo2-bundle=y
archive-async=y
spool-path=$dir/spool
archive-push-queue-max=4096MiB
process-max=2
start-fast=y
compress-type=zst
log-level-console=warn
log-level-file=info
log-path=$dir/log
lock-path=$dir/lock

[bench]
pg1-path=$pg_dir/data
pg1-port=$pg_port
pg1-socket-path=$pg_dir
pg1-user=postgres
CONF
  chmod 644 "$dir/pgbackrest.conf"
  pgbr=(pgbackrest --config="$dir/pgbackrest.conf" --stanza=bench)
  as_postgres "${pgbr[@]}" stanza-create >/dev/null || die "pgbackrest stanza-create failed (see $dir/log)"
  "${psql[@]}" -d postgres -c "alter system set archive_command = 'pgbackrest --config=$dir/pgbackrest.conf --stanza=bench archive-push %p'" \
    -c "select pg_reload_conf()" >/dev/null || die "cannot set archive_command"
  as_postgres "${pgbr[@]}" check >/dev/null || die "pgbackrest check failed: no WAL reached the repositories"
  archive_version="$(pgbackrest version)"
  archive_start="$(archive_state)"
  # pgBackRest's own CPU time: its processes are short-lived or detached from Postgres (the
  # async pusher), so the CPU columns above charge them to "other"; sample them directly.
  ( while :; do
      for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        [[ $line == *"(pgbackrest)"* ]] || continue
        rest="${line##*) }"
        set -- $rest
        echo "${line%% *} $(( ${12} + ${13} ))"
      done
      sleep 0.2
    done >"$tmp/archive/cpu.samples" ) &
  archive_sampler=$!
}

# Seconds of CPU pgBackRest's processes used so far (the last sample of each process).
archive_cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ t[$1] = $2 } END { for (p in t) s += t[p]; printf "%.2f", s / hz }' \
    "$tmp/archive/cpu.samples"
}

# "archived_count wal_bytes repo1_bytes repo2_bytes" now (after the queue drained).
archive_state() {
  local dir="$tmp/archive" lsn_bytes count
  "${psql[@]}" -d postgres -c "checkpoint" >/dev/null
  for _ in $(seq 120); do
    [[ -z $(ls "$pg_dir/data/pg_wal/archive_status/" 2>/dev/null | grep '\.ready$') ]] && break
    sleep 0.5
  done
  count="$("${psql[@]}" -d postgres -At -c "select archived_count from pg_stat_archiver")"
  lsn_bytes="$("${psql[@]}" -d postgres -At -c "select pg_current_wal_lsn() - '0/0'::pg_lsn")"
  echo "$count $lsn_bytes $(du -sb "$dir/repo1/archive" | cut -f1) $(du -sb "$dir/repo2/archive" | cut -f1)"
}

# After the load: the idle measurement, then the report lines.
finish_archiving() {
  local loaded idle_start idle_end mints elapsed
  loaded="$(archive_state)"
  archive_cpu_load="$(archive_cpu_seconds)"
  archive_load_seconds="$1"
  archive_mints="$2"
  archive_deliveries="$3"
  if ((archive_idle > 0)); then
    echo "bench: archiving: idle for $archive_idle s (one small write every 15 s)..." >&2
    "${psql[@]}" -d bench -c "create table if not exists beat (at timestamptz)" >/dev/null
    idle_start="$(archive_state)"
    local started=$SECONDS
    while ((SECONDS - started < archive_idle)); do
      "${psql[@]}" -d bench -c "insert into beat values (now())" >/dev/null
      sleep 15
    done
    idle_end="$(archive_state)"
  fi
  archive_cpu_total="$(archive_cpu_seconds)"
  kill "$archive_sampler" 2>/dev/null
  archive_report=()
  read -r c0 w0 r10 r20 <<<"$archive_start"
  read -r c1 w1 r11 r21 <<<"$loaded"
  archive_report+=("$(awk -v c="$((c1 - c0))" -v w="$((w1 - w0))" -v a="$((r11 - r10))" -v b="$((r21 - r20))" \
    -v s="$archive_load_seconds" -v n="$archive_mints" -v d="$archive_deliveries" 'BEGIN {
      printf "under the load (%d s: %d licenses minted, %d deliveries stored): %d segments archived; WAL written %.1f MB; repo1 +%.1f MB, repo2 +%.1f MB (%.0f and %.0f bytes per stored row)", s, n, d, c, w / 1e6, a / 1e6, b / 1e6, (n + d > 0 ? a / (n + d) : 0), (n + d > 0 ? b / (n + d) : 0)
    }')")
  archive_report+=("$(awk -v cpu="$archive_cpu_load" -v s="$archive_load_seconds" -v n="$archive_mints" -v d="$archive_deliveries" 'BEGIN {
      printf "pgBackRest CPU under the load: %.1f s in %d s (%.1f%% of one CPU; %.0f us per stored row)", cpu, s, 100 * cpu / s, (n + d > 0 ? 1e6 * cpu / (n + d) : 0)
    }')")
  if ((archive_idle > 0)); then
    archive_report+=("$(awk -v a="$archive_cpu_load" -v b="$archive_cpu_total" -v s="$archive_idle" 'BEGIN {
      printf "pgBackRest CPU while idle: %.2f s in %d s (%.0f s per day)", b - a, s, (b - a) * 86400 / s
    }')")
    read -r c2 w2 r12 r22 <<<"$idle_start"
    read -r c3 w3 r13 r23 <<<"$idle_end"
    archive_report+=("$(awk -v c="$((c3 - c2))" -v a="$((r13 - r12))" -v b="$((r23 - r22))" -v s="$archive_idle" 'BEGIN {
      printf "idle (%d s, a write every 15 s): %d segments archived; repo1 +%.1f kB, repo2 +%.1f kB; per day: %.0f segments, repo1 %.1f MB, repo2 %.1f MB", s, c, a / 1e3, b / 1e3, c * 86400 / s, a * 86400 / s / 1e6, b * 86400 / s / 1e6
    }')")
  fi
}

print_archive_report() {
  echo
  echo "Archiving on: $archive_version, archive_timeout 60 s, two repositories (repo2 encrypted, both zstd)"
  local line
  for line in "${archive_report[@]}"; do echo "  $line"; done
}
