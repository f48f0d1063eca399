#!/usr/bin/env bash
# Build the project's image and run the compose stack from it, on a machine without an image
# registry (Debian bookworm, root; Debian's packages and the package index reachable):
#   1. installs docker.io, debootstrap and docker-compose from Debian when missing;
#   2. starts a private dockerd (no bridge, no iptables: containers share the host's network) with
#      its data, exec root and socket in a temporary folder, stopped by the EXIT trap;
#   3. makes a stand-in for python:3.11-slim from Debian (debootstrap tarball, cached in
#      LMS_CI_CACHE_DIR) and builds the Dockerfile on it with BuildKit, reporting the image size;
#   4. runs docker-compose.yml with deploy/compose.ci.yml (host network, free loopback ports)
#      against the machine's PostgreSQL (database lms_ci_image) and Redis (db 7): migration,
#      simulators, scoring registration, LMS, worker; then `lms-soap demo` from the host's .venv;
#   5. checks: every container process runs as the image's non-root user, the image's HEALTHCHECK
#      turns healthy, no compiler in the image, nothing left after `down`.
# Exit status: 0 verified, 1 a check failed, 75 this machine cannot run dockerd (reason printed).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

CACHE_DIR=${LMS_CI_CACHE_DIR:-/var/cache/lms-ci-image}
PG_DB=${LMS_CI_DB_NAME:-lms_ci_image}
REDIS_DB=${LMS_CI_REDIS_DB:-7}
IMAGE=lms-soap:ci
BASE_IMAGE=lms-ci-python:3.11
ROOTFS_IMAGE=lms-ci-debian:bookworm
PROJECT=lms-ci
DOCKER=/usr/bin/docker  # Debian's client (BuildKit built in); another one on the PATH may want buildx
PACKAGES="python3.11,python3-pip,python3-venv,ca-certificates"
EX_UNAVAILABLE=75
STARTED=$SECONDS
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for DROP DATABASE IF EXISTS

say() { echo "ci-image: $*"; }
fail() { echo "ci-image: FAILED: $*" >&2; exit 1; }
skip() { echo "ci: docker image check skipped: $*"; exit "$EX_UNAVAILABLE"; }
elapsed() { echo "$((SECONDS - STARTED)) s"; }

[ "$(id -u)" = 0 ] || skip "needs root (dockerd, debootstrap)"

# --- 1. packages --------------------------------------------------------------------------------
if [ ! -x "$DOCKER" ] || ! command -v dockerd debootstrap docker-compose >/dev/null; then
  say "installing docker.io debootstrap docker-compose (Debian)"
  # Another apt run on the machine holds the lock for a while: wait for it rather than fail.
  { apt-get -o DPkg::Lock::Timeout=600 update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
         --no-install-recommends docker.io debootstrap docker-compose >/dev/null; } \
    || skip "apt-get could not install docker.io debootstrap docker-compose"
fi

# --- the Debian root file system of the stand-in base (no dockerd needed; cached) ---------------
mkdir -p "$CACHE_DIR"
ROOTFS_TAR="$CACHE_DIR/bookworm-minbase-$(echo "$PACKAGES" | md5sum | cut -c1-8).tar"
if [ ! -s "$ROOTFS_TAR" ]; then
  say "debootstrap bookworm (minbase + $PACKAGES), cached in $ROOTFS_TAR"
  rootfs=$(mktemp -d /tmp/lms-ci-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs" "$ROOTFS_TAR.$$.part"' EXIT
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$rootfs" >"$rootfs.log" 2>&1 \
    || { tail -5 "$rootfs.log"; rm -f "$rootfs.log"; fail "debootstrap"; }
  rm -rf "$rootfs.log" "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -cf "$ROOTFS_TAR.$$.part" . && mv "$ROOTFS_TAR.$$.part" "$ROOTFS_TAR"
  rm -rf "$rootfs"
  trap - EXIT
  say "root file system ready ($(elapsed))"
fi
# .ci/run prepares the packages and the tarball while the tests run, then runs the check.
[ "${1:-}" = --prepare ] && exit 0

# --- 2. a private dockerd -------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/lms-ci-image.XXXXXX)
export DOCKER_HOST="unix://$WORK/docker.sock"
DOCKERD_PID=
COMPOSE=()

cleanup() {
  local status=$?
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if [ "${#COMPOSE[@]}" -gt 0 ]; then "${COMPOSE[@]}" down -v --remove-orphans -t 10 >/dev/null 2>&1; fi
    local left
    left=$("$DOCKER" ps -aq 2>/dev/null)
    [ -n "$left" ] && "$DOCKER" rm -f $left >/dev/null 2>&1
    kill "$DOCKERD_PID"
    for _ in $(seq 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && kill -9 "$DOCKERD_PID"
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  # dockerd unmounts its layers when it stops; whatever a crash left mounted goes before the rm.
  grep -o " $WORK/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$WORK"
  if [ -n "${PG_DB_CREATED:-}" ]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1
    redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null 2>&1
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting dockerd (data root $WORK/data)"
dockerd --bridge=none --iptables=false --ip-masq=false \
  --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
  --host "$DOCKER_HOST" >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 60); do
  "$DOCKER" info >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { DOCKERD_PID=; skip "dockerd exited: $(tail -1 "$WORK/dockerd.log")"; }
  sleep 1
done
"$DOCKER" info >/dev/null 2>&1 || skip "dockerd did not answer within 60 s: $(tail -1 "$WORK/dockerd.log")"

# --- 3. the stand-in base, then the project's image --------------------------------------------
"$DOCKER" import "$ROOTFS_TAR" "$ROOTFS_IMAGE" >/dev/null
mkdir -p "$WORK/base"
cp /etc/ssl/certs/ca-certificates.crt "$WORK/base/"
DOCKER_BUILDKIT=1 "$DOCKER" build -q --network host --build-arg ROOTFS="$ROOTFS_IMAGE" \
  -f deploy/ci-base.Dockerfile -t "$BASE_IMAGE" "$WORK/base" >/dev/null || fail "building the stand-in base"
say "stand-in base $BASE_IMAGE ready ($(elapsed))"

# The package index the host's pip uses, when it is not pip's default (an http(s) one: a file://
# index of the host is not inside the build).
host_pip() {
  python3 -m pip config list 2>/dev/null | python3 -c '
import sys
name = sys.argv[1]
found = {}
for line in sys.stdin:
    key, _, value = line.strip().partition("=")
    scope, _, option = key.rpartition(".")
    if option == name and scope in (":env:", "global"):
        found[scope] = value.strip("\x27\"")
urls = (found.get(":env:") or found.get("global") or "").split()
print(" ".join(u for u in urls if u.startswith(("http://", "https://"))))' "$1"
}
BUILD_ARGS=(--build-arg "PYTHON_IMAGE=$BASE_IMAGE")
INDEX_URL=$(host_pip index-url)
EXTRA_INDEX_URL=$(host_pip extra-index-url)
[ -n "$INDEX_URL" ] && BUILD_ARGS+=(--build-arg "PIP_INDEX_URL=$INDEX_URL")
[ -n "$EXTRA_INDEX_URL" ] && BUILD_ARGS+=(--build-arg "PIP_EXTRA_INDEX_URL=$EXTRA_INDEX_URL")

say "building $IMAGE (BuildKit, base $BASE_IMAGE)"
build_started=$SECONDS
DOCKER_BUILDKIT=1 "$DOCKER" build --progress plain --network host "${BUILD_ARGS[@]}" -t "$IMAGE" . \
  >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; fail "docker build"; }
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
say "image $IMAGE built in $((SECONDS - build_started)) s: $((size / 1000000)) MB"

# No compiler in the runtime image (the builder stage had one).
"$DOCKER" run --rm --network host --entrypoint sh "$IMAGE" -c \
  'for c in gcc cc c++ g++ clang; do command -v $c && exit 1; done; exit 0' \
  || fail "a compiler is in the runtime image"
say "no compiler in the image"

# --- 4. the stack -----------------------------------------------------------------------------------
free_ports() {
  python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))'
}
read -r CI_LMS_PORT CI_CBS_PORT CI_SCORING_PORT < <(free_ports)
export CI_LMS_PORT CI_CBS_PORT CI_SCORING_PORT CI_IMAGE=$IMAGE
export CI_DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:5432/$PG_DB"
export CI_REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
LMS_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
export LMS_SECRET_KEY

pg_isready -h 127.0.0.1 -p 5432 -q || fail "PostgreSQL does not answer on 127.0.0.1:5432"
redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG || fail "Redis does not answer on 127.0.0.1:6379"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
PG_DB_CREATED=1
redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null

# The compose file as shipped, less two keys: its top-level `name:` (Compose v2's project name;
# Debian's docker-compose is v1, 1.29, which refuses it: -p gives the name instead) and the
# published ports (refused with the host network; compose v1 has no way to drop a list in an
# override). PyYAML is docker-compose's own dependency, hence Debian's python3.
/usr/bin/python3 - docker-compose.yml "$WORK/docker-compose.yml" <<'EOF'
import sys, yaml
compose = yaml.safe_load(open(sys.argv[1]))
compose.pop("name", None)
for service in compose["services"].values():
    service.pop("ports", None)
yaml.safe_dump(compose, open(sys.argv[2], "w"), sort_keys=False)
EOF
COMPOSE=(docker-compose --project-directory "$REPO" -p "$PROJECT" -f "$WORK/docker-compose.yml" -f deploy/compose.ci.yml)
# On the host network every LMS replica would bind the same port: one LMS; two workers, as the
# compose file's default, so the stack runs with replicas where they can share the host.
export LMS_REPLICAS=1 WORKER_REPLICAS=2

say "docker-compose up (LMS 127.0.0.1:$CI_LMS_PORT, CBS :$CI_CBS_PORT, scoring :$CI_SCORING_PORT, database $PG_DB, Redis db $REDIS_DB)"
"${COMPOSE[@]}" up -d --no-build >"$WORK/compose-up.log" 2>&1 \
  || { cat "$WORK/compose-up.log"; "${COMPOSE[@]}" logs --no-color --tail 40; fail "docker-compose up"; }

cid() { "${COMPOSE[@]}" ps -q "$1"; }
health() { "$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
for service in lms worker cbs scoring; do
  containers=$(cid "$service")
  [ -n "$containers" ] || fail "no $service container"
  for c in $containers; do  # every replica
    for _ in $(seq 90); do
      state=$(health "$c")
      [ "$state" = healthy ] && break
      [ "$state" = unhealthy ] && break
      sleep 1
    done
    [ "$state" = healthy ] || { "${COMPOSE[@]}" logs --no-color --tail 40 "$service"; fail "$service is $state, not healthy"; }
  done
done
for service in migrate scoring-register; do
  code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$(cid "$service")")
  [ "$code" = 0 ] || { "${COMPOSE[@]}" logs --no-color "$service"; fail "$service exited with $code"; }
done
say "migration and scoring registration done; LMS (image HEALTHCHECK), worker and simulators healthy ($(elapsed))"

# Every process of every running container as the image's user (uid 10001, `lms`). A process
# that `docker exec` (a health check) is starting shows as runc's own init, uid 0, for the instant
# before it drops to the container's user: skipped by name, and a sample with anything else is taken
# again so only a process that stays root fails the check.
container_uids() {
  "$DOCKER" exec "$1" python -c '
import pathlib
seen = set()
for proc in pathlib.Path("/proc").glob("[0-9]*"):
    try:
        comm = (proc / "comm").read_text().strip()
        uid = next(line.split()[1] for line in (proc / "status").read_text().splitlines() if line.startswith("Uid:"))
    except (OSError, StopIteration):
        continue
    if not comm.startswith("runc"):
        seen.add(uid if uid == "10001" else f"{uid}({comm})")
print(" ".join(sorted(seen)))'
}
for c in $("${COMPOSE[@]}" ps -q); do
  [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$c")" = true ] || continue
  name=$("$DOCKER" inspect -f '{{.Name}}' "$c")
  for _ in 1 2 3; do
    uids=$(container_uids "$c")
    [ "$uids" = 10001 ] && break
    sleep 1
  done
  [ "$uids" = 10001 ] || fail "$name has processes of uid(s) $uids, not only 10001"
done
say "every container process runs as uid 10001 (lms)"

# --- the demo from the host ------------------------------------------------------------------------
[ -x .venv/bin/lms-soap ] || make install >/dev/null
bank=$("${COMPOSE[@]}" run --rm -T --no-deps migrate lms-soap clients add ci-bank --role bank 2>/dev/null | tail -1)
mkdir -p "$WORK/demo"
python3 - "$bank" "$WORK/demo/credentials.json" <<EOF
import json, sys
bank = json.loads(sys.argv[1])
lms = "http://127.0.0.1:$CI_LMS_PORT"
json.dump({"lms_url": lms, "wsdl_url": lms + "/soap?wsdl", "scoring_url": "http://127.0.0.1:$CI_SCORING_PORT",
           "bank": {"username": bank["username"], "password": bank["password"]}}, open(sys.argv[2], "w"))
EOF
say "lms-soap demo (host .venv) against the containerised LMS"
env -u DATABASE_URL -u REDIS_URL .venv/bin/lms-soap demo --no-lifecycle --state-dir "$WORK/demo" >"$WORK/demo.log" 2>&1 \
  || { cat "$WORK/demo.log"; "${COMPOSE[@]}" logs --no-color --tail 40 lms worker; fail "lms-soap demo"; }
tail -1 "$WORK/demo.log"

# --- 5. down leaves nothing -------------------------------------------------------------------------
"${COMPOSE[@]}" down -v --remove-orphans -t 30 >"$WORK/compose-down.log" 2>&1 || { cat "$WORK/compose-down.log"; fail "docker-compose down"; }
left=$("$DOCKER" ps -aq)
[ -z "$left" ] || fail "containers left after docker-compose down: $left"
COMPOSE=()
say "docker-compose down left no container"
say "verified in $(elapsed): image $((size / 1000000)) MB"
