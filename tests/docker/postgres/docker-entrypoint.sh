#!/bin/bash
# The stand-in's entrypoint (see Dockerfile): the part of the official postgres image's
# docker-entrypoint.sh that compose.yml relies on.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  # As root: the password file belongs to another uid (mode 0400), so read it before dropping
  # privileges, then own the data and socket directories and run the rest as postgres.
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
    export POSTGRES_PASSWORD
    unset POSTGRES_PASSWORD_FILE
  fi
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "docker-entrypoint.sh: POSTGRES_PASSWORD(_FILE) is not set" >&2; exit 1; }
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  # Like the official image: local connections trusted, every other one by password.
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  # Socket only while initialising, so the TCP healthcheck cannot pass before the database exists.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -X -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -v db="$POSTGRES_DB" \
      <<<'create database :"db"'
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "docker-entrypoint.sh: initialised $PGDATA (database $POSTGRES_DB, user $POSTGRES_USER)"
fi
unset POSTGRES_PASSWORD
exec "$@"
