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
verify | restore)
  # verify: restore /out/$FILE into the scratch database $SCRATCH (made here, no app may connect
  # to it, dropped however it ends). restore: into the app's new database $TARGET (made by berth,
  # owned by the app's role $ROLE, which comes to own what is restored). Both then check it and
  # print the row counts the dump holds and those the restored copy has.
  sql() { psql -X -q -v ON_ERROR_STOP=1 -v db="$SCRATCH" --dbname=postgres; }
  if [ "$1" = verify ]; then
    DB="$SCRATCH"
    trap 'echo "DROP DATABASE IF EXISTS :\"db\" WITH (FORCE);" | sql' EXIT
    echo 'CREATE DATABASE :"db"; REVOKE ALL ON DATABASE :"db" FROM PUBLIC;' | sql
    age -d -i "$KEY" "/out/$FILE" | pg_restore --no-owner --no-privileges --exit-on-error --dbname="$DB"
  else
    DB="$TARGET"
    age -d -i "$KEY" "/out/$FILE" | pg_restore --no-owner --no-privileges --role="$ROLE" --exit-on-error --dbname="$DB"
  fi
  echo "berth: restored"
  had=$(psql -X -A -t -q --dbname="$DB" -c "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'")
  pg_amcheck --install-missing --heapallindexed --database="$DB"
  # an app's database is left as the dump had it: without amcheck unless it was there
  [ "$had" = 1 ] || psql -X -q -v ON_ERROR_STOP=1 --dbname="$DB" -c 'DROP EXTENSION IF EXISTS amcheck'
  echo "berth: checked"
  echo "berth: dump counts"
  # inside a COPY block every line is a row (one starting with "COPY " too) until the "\." line
  age -d -i "$KEY" "/out/$FILE" | pg_restore --data-only --file=- | awk '
    on && $0 == "\\." { print t "\t" n; on = 0; next }
    on { n++; next }
    /^COPY / { t = substr($0, 6); i = index(t, " ("); if (i == 0) i = index(t, " FROM stdin;"); t = substr(t, 1, i - 1); n = 0; on = 1 }'
  echo "berth: restored counts"
  psql -X -A -t -q -v ON_ERROR_STOP=1 --dbname="$DB" <<'SQL'
SELECT format('%I.%I', n.nspname, c.relname) || E'\t'
  || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY 1;
SQL
  echo "berth: end"
  ;;
sweep)
  # scratch databases a verification left (killed mid-way: its trap never ran), dropped at daemon start
  psql -X -A -t -q -v ON_ERROR_STOP=1 --dbname=postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'berth\_verify\_%'" |
    while read -r db; do
      echo 'DROP DATABASE IF EXISTS :"db" WITH (FORCE);' | psql -X -q -v ON_ERROR_STOP=1 -v db="$db" --dbname=postgres
      echo "berth: dropped $db"
    done
  ;;
dropdb)
  # a database berth made and no longer needs ($DB: a restore's target that failed, or the one a restore replaced)
  echo 'DROP DATABASE IF EXISTS :"db" WITH (FORCE);' | psql -X -q -v ON_ERROR_STOP=1 -v db="$DB" --dbname=postgres
  ;;
pack)
  # the platform's backup: the staged directory /out/$STAGED (state copy, keys, certificates) as
  # one tar straight into age; unpack: the reverse, into /out/$STAGED (restore-host)
  tar -C "/out/$STAGED" -cf - . | age -r "$RECIPIENT" -o "/out/$FILE"
  ;;
unpack)
  mkdir -p "/out/$STAGED"
  age -d -i "$KEY" "/out/$FILE" | tar -C "/out/$STAGED" -xf -
  ;;
copy-to | sum-at | copy-from | delete-at | probe | latest-at | copy-tree-to | copy-tree-from | put-tree)
  # an off-site target (rclone's remote "target" in the 0600 config file berth wrote): /out/$FILE
  # to $KEY_AT; the sha256 of what the target holds (read back whole); $KEY_AT back to /out/$FILE;
  # $KEY_AT removed; a probe object written, read and removed (credentials and bucket work)
  rc() { rclone --config /run/secrets/berth/rclone.conf -q --retries 3 --low-level-retries 10 --s3-upload-concurrency 2 --s3-chunk-size 16M "$@"; }
  case "$1" in
  copy-to) rc copyto "/out/$FILE" "target:$KEY_AT" ;;
  sum-at) rc hashsum sha256 --download "target:$KEY_AT" ;;
  copy-from) rc copyto "target:$KEY_AT" "/out/$FILE" ;;
  # few retries: a target that is down is tried again at the next delete or prune, not held on to
  # (an object already gone is deleted: rclone says "object not found", exit 4)
  delete-at) rc --retries 1 --low-level-retries 2 --contimeout 10s --timeout 30s deletefile "target:$KEY_AT" || [ $? = 4 ] ;;
  # a tree (the WAL archive): new and changed files, files being written left for the next time
  # (PRUNE=1: what left /out goes from the target too, once the rest is there)
  copy-tree-to) if [ "${PRUNE:-}" = 1 ]; then rc sync --exclude '*.tmp' /out "target:$KEY_AT"; else rc copy --exclude '*.tmp' /out "target:$KEY_AT"; fi ;;
  copy-tree-from) rc copy "target:$KEY_AT" "/out/$STAGED" ;;
  # every file of /out as an object (an app's bucket brought back): none left out
  put-tree) rc copy /out "target:$KEY_AT" ;;
  latest-at)
    # the newest platform backup under $KEY_AT (names sort by time), copied to /out/$FILE
    name=$(rc lsf --files-only "target:$KEY_AT" | grep '\.age$' | sort | tail -n 1)
    [ -n "$name" ] || { echo "berth: no platform backup under $KEY_AT" >&2; exit 3; }
    rc copyto "target:$KEY_AT/$name" "/out/$FILE"
    echo "berth: fetched $name"
    ;;
  probe)
    echo "berth probe" > /tmp/probe
    rc copyto /tmp/probe "target:$KEY_AT"
    rc cat "target:$KEY_AT" | grep -q "berth probe"
    rc deletefile "target:$KEY_AT"
    echo "berth: probe ok"
    ;;
  esac
  ;;
*)
  echo "usage: berth-pg-tools keygen|dump|verify|restore|dropdb|pack|unpack|copy-to|sum-at|copy-from|delete-at|probe|latest-at" >&2
  exit 2
  ;;
esac
