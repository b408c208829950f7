#!/bin/sh
# berth's backup tasks, run by the daemon in berth/pg-tools (busybox sh, PostgreSQL 15's client
# programs, Debian's age). One subcommand per task. Every value comes from the environment
# (names berth made, checked before) or is passed to psql as a variable: no text is spliced into
# SQL or a command line. libpq reads PGHOST, PGPORT, PGUSER and PGPASSFILE.
set -eu
set -o pipefail
KEY=/run/secrets/berth/backup.key

case "${1:-}" in
keygen)
  # the platform's backup key: the identity (0600) in /out, its recipient on stdout
  age-keygen -o /out/backup.key 2>/dev/null
  age-keygen -y /out/backup.key
  ;;
dump)
  # pg_dump's custom format (compressed) of $DB, straight into age: the dump is never on disk unencrypted
  pg_dump -Fc -w --dbname="$DB" | age -r "$RECIPIENT" -o "/out/$FILE"
  ;;
verify)
  # restore /out/$FILE into the scratch database $SCRATCH (no app may connect to it), check it,
  # and print the row counts the dump holds and those the restored copy has; the scratch goes
  # however it ends
  sql() { psql -X -q -v ON_ERROR_STOP=1 -v db="$SCRATCH" --dbname=postgres; }
  trap 'echo "DROP DATABASE IF EXISTS :\"db\" WITH (FORCE);" | sql' EXIT
  echo 'CREATE DATABASE :"db"; REVOKE ALL ON DATABASE :"db" FROM PUBLIC;' | sql
  age -d -i "$KEY" "/out/$FILE" | pg_restore --no-owner --no-privileges --exit-on-error --dbname="$SCRATCH"
  echo "berth: restored"
  pg_amcheck --install-missing --heapallindexed --database="$SCRATCH"
  echo "berth: checked"
  echo "berth: dump counts"
  age -d -i "$KEY" "/out/$FILE" | pg_restore --data-only --file=- | awk '
    /^COPY / { t = substr($0, 6); i = index(t, " ("); if (i == 0) i = index(t, " FROM stdin;"); t = substr(t, 1, i - 1); n = 0; on = 1; next }
    on && $0 == "\\." { print t "\t" n; on = 0; next }
    on { n++ }'
  echo "berth: restored counts"
  psql -X -A -t -q -v ON_ERROR_STOP=1 --dbname="$SCRATCH" <<'SQL'
SELECT format('%I.%I', n.nspname, c.relname) || E'\t'
  || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY 1;
SQL
  echo "berth: end"
  ;;
*)
  echo "usage: berth-pg-tools keygen|dump|verify" >&2
  exit 2
  ;;
esac
