#!/usr/bin/env bash
# Build the Dockerfile for real and start what it built, on a machine that cannot reach Docker Hub and cannot start
# containers (this project's build machines: registries are PyPI, Debian and npm only, and the sandbox refuses the
# setrlimit calls every OCI runtime makes). Needs root, debootstrap and podman (apt-get install debootstrap podman).
#
#   deploy/rehearse-image.sh            # prints what it checked; exit 0 when every check passed
#
# What is real: podman builds the Dockerfile as it is (every stage, COPY, RUN, the hashed lock, npm ci, compileall,
# the user, the health check: `--format docker`, as OCI images have no HEALTHCHECK), with `--isolation chroot` (RUN
# steps in a chroot, no OCI runtime). What stands in: the two bases
# (python:3.11-slim-bookworm, node:22-bookworm-slim) are Debian bookworm made with debootstrap from Debian's own
# packages (Python 3.11, Node.js 18 and npm), passed as the Dockerfile's PYTHON_IMAGE and NODE_IMAGE. The image is then
# started from its own config (env, working directory, user, command) in a chroot of a container made from it, and
# checked over HTTP on 127.0.0.1: /healthz and /readyz answer 200, /api/messages without a token 401 (auth is on, as
# the image insists on 0.0.0.0), the Web Chat bundle is served brotli-compressed, the HEALTHCHECK command exits 0, the
# process runs as the image's non-root user, the database is on /data, no module the app imports is compiled at start,
# the knowledge is read from its build-time snapshot,
# and `cosell-bot ask` in the image answers; it prints the time from the start to the first 200. Then the image again
# on PostgreSQL (COSELL_DATABASE_URL, as the Bicep template runs it), on a throwaway server from this machine's
# binaries: /readyz answers 200 and the image migrated the empty database to the current schema.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "rehearse-image: needs root (debootstrap, chroot)" >&2; exit 2; }
for tool in debootstrap podman curl python3; do
  command -v "$tool" >/dev/null || { echo "rehearse-image: $tool not found (apt-get install debootstrap podman curl)" >&2; exit 2; }
done
work=${REHEARSE_DIR:-/var/tmp/cosell-image-rehearsal}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
pm=(podman --storage-driver=vfs --cgroup-manager=cgroupfs)
mkdir -p "$work"

stand_in() {  # $1 tag, $2 packages: a Debian bookworm base made from Debian's packages, imported once
  local tag=$1 packages=$2 root="$work/rootfs-${1##*/}"
  if ! "${pm[@]}" image exists "$tag"; then
    rm -rf "$root"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$root.log" 2>&1 \
      || { tail -20 "$root.log" >&2; exit 1; }
    # apt, not debootstrap --include, for the rest: npm's ~300 node-* packages need apt's configure order
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    chroot "$root" sh -c "apt-get install -y -qq --no-install-recommends $packages && apt-get clean" >>"$root.log" 2>&1 \
      || { umount "$root/proc"; tail -20 "$root.log" >&2; exit 1; }
    local trust=()
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      # this machine's own certificate authorities (a TLS-inspecting proxy between it and the registries), trusted
      # inside the stand-ins too, as npm and pip do here (the official bases would need the same behind a proxy)
      cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
      chroot "$root" update-ca-certificates >>"$root.log" 2>&1
      trust=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"
             --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt")
    fi
    umount "$root/proc"
    rm -f "$root/etc/resolv.conf"
    tar -C "$root" -c . | "${pm[@]}" import --quiet "${trust[@]}" --change 'CMD ["/bin/sh"]' - "$tag" >/dev/null
    rm -rf "$root"
  fi
}
stand_in localhost/python-stand-in:3.11-bookworm "python3 python3-venv python-is-python3"
stand_in localhost/node-stand-in:bookworm "nodejs npm"

if [ -n "${REHEARSE_REUSE:-}" ] && "${pm[@]}" image exists localhost/cosell-bot:rehearsal; then
  echo "rehearse-image: checking the image built before (REHEARSE_REUSE)"
else
  echo "rehearse-image: building the Dockerfile (podman build --isolation chroot)"
  start=$(date +%s)
  "${pm[@]}" build --isolation chroot --layers=false --format docker \
    --build-arg PYTHON_IMAGE=localhost/python-stand-in:3.11-bookworm \
    --build-arg NODE_IMAGE=localhost/node-stand-in:bookworm \
    -t localhost/cosell-bot:rehearsal . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
  size=$("${pm[@]}" image inspect --format '{{.Size}}' localhost/cosell-bot:rehearsal | awk '{printf "%.0f MB", $1/1e6}')
  echo "  built in $(( $(date +%s) - start )) s; image $size"
fi

ctr=$("${pm[@]}" create localhost/cosell-bot:rehearsal)
root=$("${pm[@]}" mount "$ctr")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
inspect=$("${pm[@]}" image inspect localhost/cosell-bot:rehearsal)
image() { python3 -c "import json, shlex, sys; image = json.loads(sys.argv[1])[0]; config = image['Config']; $1" "$inspect"; }
mapfile -t envs < <(image 'print("\n".join(config["Env"]))')
user=$(image 'print(config.get("User") or "0")')
workdir=$(image 'print(config.get("WorkingDir") or "/")')
cmd=$(image 'print(shlex.join(config["Cmd"]))')
health=$(image 'test = image["Healthcheck"]["Test"]; assert test[0] == "CMD"; print(shlex.join(test[1:]))')
ids=$(chroot "$root" sh -c "id -u ${user%%:*}; id -g ${user%%:*}" | paste -sd:)
mount -t proc proc "$root/proc"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  umount "$root/run/cosell-pg" 2>/dev/null || true
  [ -n "${pgpid:-}" ] && kill "$pgpid" 2>/dev/null && wait "$pgpid" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
  "${pm[@]}" rm -f "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# auth on (the image binds 0.0.0.0, which `serve` refuses without an app id); nothing calls out to Microsoft here
run_env=(env -i "${envs[@]}" COSELL_PORT="$port" MicrosoftAppId=00000000-0000-0000-0000-000000000001
         MicrosoftAppPassword=rehearsal-only MicrosoftAppType=MultiTenant)
started=$(date +%s.%N)
"${run_env[@]}" chroot --userspec="$ids" "$root" sh -c "cd $workdir && exec $cmd" >"$work/serve.log" 2>&1 &
pid=$!
ok=0 failed=0
check() {  # $1 what, then the command that must succeed
  local what=$1; shift
  if "$@"; then echo "  ok    $what"; ok=$((ok + 1)); else echo "  FAIL  $what" >&2; failed=$((failed + 1)); fi
}
for _ in $(seq 3000); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.01; done
echo "  serving: first 200 after $(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$started") s"
url="http://127.0.0.1:$port"
check "GET /healthz answers 200" curl -fs -o /dev/null "$url/healthz"
check "GET /readyz answers 200 (database opened, knowledge loaded)" curl -fs -o /dev/null "$url/readyz"
activity='{"type":"message","id":"a1","channelId":"msteams","serviceUrl":"https://smba.trafficmanager.net/teams/",
  "conversation":{"id":"c1"},"from":{"id":"u1"},"recipient":{"id":"b1"},"text":"hello"}'
answered() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$activity" "$url/api/messages"; }
check "POST /api/messages without a token answers 401" test "$(answered)" = 401
check "the Web Chat bundle is served brotli-compressed" \
  test "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -H 'Accept-Encoding: br' -D - "$url/webchat/webchat.js" | grep -ci '^content-encoding: br')" = 1
check "the HEALTHCHECK command exits 0" "${run_env[@]}" chroot --userspec="$ids" "$root" sh -c "cd $workdir && $health"
check "serve runs as the image's user ($user, not root)" \
  test "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)" != 0
check "the SQLite file is on the /data volume" test -f "$root/data/cosell-bot.db"
asked() {
  "${run_env[@]}" chroot --userspec="$ids" "$root" sh -c "cd $workdir && python -m bot.cli ask --json 'Il flusso dice WorkflowTriggerNotFound quando lo attivo'" \
    | python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["entry"])'
}
stale() {  # modules the app imports whose bytecode Python finds stale: compiled again at every start
  "${run_env[@]}" chroot --userspec="$ids" "$root" sh -c "cd $workdir && python -v -c 'import bot.app' 2>&1" \
    | grep -c "bytecode is stale" || true
}
check "every module the app imports loads its bytecode (none compiled at start)" test "$(stale)" = 0
snapshot() {  # the built knowledge saved at build time for these very sources, readable by the image's user
  "${run_env[@]}" chroot --userspec="$ids" "$root" sh -c "cd $workdir && python -c 'from knowledge import snapshot; print(snapshot.load() is not None)'"
}
check "the knowledge is read from its build-time snapshot (not built at start)" test "$(snapshot)" = True
check "the image answers a FAQ question (ask, Italian, a pasted error)" test "$(asked)" = cfg-workflow-trigger-not-found

# The image on PostgreSQL, as the template runs it (COSELL_DATABASE_URL): a throwaway server from this machine's
# binaries (devtools/pgserver.py, the tests' own), its socket folder bound into the container's tree
if [ -x .venv/bin/python ] && compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  coproc PG { exec .venv/bin/python -c '
import os, signal
from devtools.pgserver import PORT, PostgresServer
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # for sigwait, and its finally
server = PostgresServer().start()
try:
    url = server.fresh()
    os.chmod(server.root, 0o755)  # the image runs as its own user: it must reach the socket
    print(server.root, PORT, url.split("@/")[1].split("?")[0], server.user, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
finally:
    server.stop()
'; }
  pgpid=$PG_PID
  read -r pgroot pgport pgdb pguser <&"${PG[0]}"
  mkdir -p "$root/run/cosell-pg"
  mount --bind "$pgroot" "$root/run/cosell-pg"
  pgurl="postgresql://$pguser@/$pgdb?host=/run/cosell-pg&port=$pgport"
  "${run_env[@]}" COSELL_DATABASE_URL="$pgurl" chroot --userspec="$ids" "$root" sh -c "cd $workdir && exec $cmd" \
    >"$work/serve-pg.log" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do curl -fs "$url/readyz" >/dev/null && break; sleep 0.01; done
  check "on PostgreSQL: GET /readyz answers 200" curl -fs -o /dev/null "$url/readyz"
  migrated() {
    .venv/bin/python -c 'import psycopg, sys; print(psycopg.connect(sys.argv[1]).execute("SELECT count(*) FROM schema_migrations").fetchone()[0])' \
      "postgresql://$pguser@/$pgdb?host=$pgroot&port=$pgport"
  }
  versions=$(.venv/bin/python -c 'from stores.sql.schema import MIGRATIONS; print(len(MIGRATIONS))')
  check "on PostgreSQL: the image migrated the schema ($versions versions)" test "$(migrated)" = "$versions"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  pid=
  umount "$root/run/cosell-pg"
  kill "$pgpid"; wait "$pgpid" 2>/dev/null || true
  pgpid=
else
  echo "  skip  on PostgreSQL: needs scripts/bootstrap's .venv and the postgresql package"
fi
echo "rehearse-image: $ok passed, $failed failed (logs in $work)"
[ "$failed" = 0 ]
