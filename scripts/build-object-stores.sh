#!/usr/bin/env bash
# Builds the object stores berth runs where their images cannot be pulled, from source, into
# /var/cache/berth (BERTH_BUILD_CACHE), once: Garage with cargo (crates.io), MinIO with Go (the
# Go module proxy). A binary already there is reused. Usage: build-object-stores.sh [garage] [minio]
# Versions must match src/state/settings.ts (GARAGE_VERSION) and src/runtime/docker/object-store-images.ts.
set -euo pipefail
CACHE="${BERTH_BUILD_CACHE:-/var/cache/berth}"
GARAGE_VERSION=2.3.0
# the build's flavour, part of its cache path and image tag: b2 = debug profile with argon2 optimized
GARAGE_BUILD=b2
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
what=("$@"); [ ${#what[@]} -gt 0 ] || what=(garage minio)

for w in "${what[@]}"; do
  case "$w" in
    garage)
      bin="$CACHE/garage-$GARAGE_VERSION-$GARAGE_BUILD/bin/garage"
      if [ -x "$bin" ]; then echo "garage $GARAGE_VERSION: cached at $bin"; continue; fi
      command -v cargo >/dev/null || { echo "cargo is needed to build Garage (apt-get install cargo, or rustup)" >&2; exit 1; }
      echo "garage $GARAGE_VERSION: building with cargo (debug profile, features bundled-libs,lmdb; ~8-10 min on 2 cores)"
      start=$(date +%s)
      # debug profile without debug info: a quarter of a release build's time, fast enough for one node;
      # but argon2 (and blake2 under it) optimized: Garage checks the admin token's argon2 hash on
      # every admin call, which took 600 ms unoptimized (3 s per apps create), ~20 ms optimized
      CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="$CACHE/cargo-target" \
        cargo install "garage@$GARAGE_VERSION" --locked --debug --no-default-features --features bundled-libs,lmdb \
        --config 'profile.dev.package.argon2.opt-level=3' --config 'profile.dev.package.blake2.opt-level=3' \
        --root "$CACHE/garage-$GARAGE_VERSION-$GARAGE_BUILD"
      echo "garage $GARAGE_VERSION: built in $(( $(date +%s) - start )) s"
      rm -rf "$CACHE/cargo-target" ;;
    minio)
      bin="$CACHE/minio-$(echo "$MINIO_VERSION" | cut -d- -f2)/bin/minio"
      if [ -x "$bin" ]; then echo "minio $MINIO_VERSION: cached at $bin"; continue; fi
      command -v go >/dev/null || { echo "go is needed to build MinIO" >&2; exit 1; }
      echo "minio $MINIO_VERSION: building with go install (~5-10 min on 2 cores)"
      start=$(date +%s)
      mkdir -p "$(dirname "$bin")"
      GOBIN="$(dirname "$bin")" CGO_ENABLED=0 GOFLAGS=-trimpath go install "github.com/minio/minio@$MINIO_VERSION"
      echo "minio $MINIO_VERSION: built in $(( $(date +%s) - start )) s" ;;
    *) echo "unknown: $w (garage or minio)" >&2; exit 2 ;;
  esac
done
