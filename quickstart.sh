#!/usr/bin/env bash
# Brings berth up on this Debian machine (as root) and serves the bundled sample app at
# https://hello.localhost. Safe to run again.
# berth runs on the Node runtime that npm ci pins (Node 24, from the npm registry); the host's
# node only runs npm, so Debian's own nodejs/npm (18) is enough.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v npm >/dev/null || missing+=(nodejs npm)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "quickstart: installing ${missing[*]} (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
npm run build --silent
ln -sf "$PWD/bin/berth" /usr/local/bin/berth
# Object storage is Garage: pulled as dxflrs/garage where a registry answers; where none does, berth
# runs its own build of the same release, made here once when cargo is at hand (~8 min on 2 cores).
if command -v cargo >/dev/null && ! docker pull -q dxflrs/garage:v2.3.0 >/dev/null 2>&1; then bash scripts/build-object-stores.sh garage; fi
berth up
berth sample build
berth apps create hello --domain hello.localhost
berth deploy hello --image berth/hello:1
root="${BERTH_ROOT:-/data/berth}"
curl -sS --cacert "$root/caddy/data/caddy/pki/authorities/local/root.crt" https://hello.localhost/
echo "berth serves https://hello.localhost (trust $root/caddy/data/caddy/pki/authorities/local/root.crt to skip the warning)"
