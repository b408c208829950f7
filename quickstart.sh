#!/usr/bin/env bash
# Brings berth up on this Debian machine (as root) and serves the bundled sample app at
# https://hello.localhost. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "berth needs Node.js 20 or newer (node --version): install it first" >&2
  exit 1
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
ln -sf "$PWD/bin/berth" /usr/local/bin/berth
berth up
berth sample build
berth apps create hello --domain hello.localhost
berth deploy hello --image berth/hello:1
root="${BERTH_ROOT:-/data/berth}"
curl -sS --cacert "$root/caddy/data/caddy/pki/authorities/local/root.crt" https://hello.localhost/
echo "berth serves https://hello.localhost (trust $root/caddy/data/caddy/pki/authorities/local/root.crt to skip the warning)"
