#!/bin/sh
# Entrypoint of the berth/postgres:15-debian image (src/platform/service-images.ts). It runs
# only inside that container, under busybox sh; it is never run on the host.
#
#   postgres [ARGS...]   On first start, creates the cluster: initdb with superuser `postgres`
#                        whose password is $POSTGRES_PASSWORD, or else the first line of
#                        $volume/.berth-init-password (removed once used) (scram-sha-256), listen_addresses
#                        '*', and a pg_hba.conf that takes scram-sha-256 password logins from any
#                        address (and nothing else). Then runs the server in the foreground, as
#                        user postgres, as PID 1 (the image's STOPSIGNAL is SIGINT: fast shutdown).
#   anything else        Run as given, e.g. a one-off `pg_dump -h HOST -U postgres DB` with
#                        PGPASSWORD set (the client programs are on PATH).
#
# The cluster lives in $PGDATA (/var/lib/postgresql/data/pgdata), one level below the volume at
# /var/lib/postgresql/data. initdb writes to a sibling directory that is renamed into place only
# once fully configured, so an interrupted first start is retried from scratch, never mistaken
# for a cluster.
#
# User input ($POSTGRES_PASSWORD, the arguments) is only ever passed as data (printf '%s', "$@"),
# never evaluated. The password must be a single line (initdb reads the first line of --pwfile).
set -eu

if [ "${1:-}" != postgres ]; then exec "$@"; fi

: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
export PGDATA
volume=$(dirname "$PGDATA")

# Runs a program as user postgres; the -c string is constant, the program and its arguments
# are positional parameters.
as_postgres() { su -s /bin/sh -c 'exec "$0" "$@"' postgres -- "$@"; }

mkdir -p "$volume" /var/run/postgresql
chown postgres:postgres "$volume" /var/run/postgresql
chmod 700 "$volume"

# berth leaves the first password in a root-only file on the volume rather than in the
# container's env, where `docker inspect` would show it for as long as the container exists.
init_password="$volume/.berth-init-password"
if [ -z "${POSTGRES_PASSWORD:-}" ] && [ -s "$init_password" ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  POSTGRES_PASSWORD=$(head -n 1 "$init_password")
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "berth-postgres: no cluster in $PGDATA and no password (POSTGRES_PASSWORD or $init_password): one is needed to create it" >&2
    exit 1
  fi
  rmdir "$PGDATA" 2>/dev/null || true
  if [ -e "$PGDATA" ]; then
    echo "berth-postgres: $PGDATA exists but holds no cluster (no PG_VERSION); move it away to start afresh" >&2
    exit 1
  fi
  new="$PGDATA.initdb"
  rm -rf "$new"
  umask 077
  pwfile=$(mktemp)
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  as_postgres initdb -D "$new" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8
  rm -f "$pwfile"
  trap - EXIT
  printf '%s\n' '' '# berth' "listen_addresses = '*'" >> "$new/postgresql.conf"
  printf '%s\n' '# berth: password logins (scram-sha-256) only, from anywhere' \
    'local all all scram-sha-256' \
    'host  all all all scram-sha-256' > "$new/pg_hba.conf"
  mv "$new" "$PGDATA"
  echo "berth-postgres: created the cluster in $PGDATA"
fi

rm -f "$init_password"
unset POSTGRES_PASSWORD
exec su -s /bin/sh -c 'exec "$0" "$@"' postgres -- "$@"
