#!/usr/bin/env bash
# scripts/conformance.sh — `npm run test:conformance`: real clients against a real zkts server.
#   1. installs the Debian peers (ZooKeeper 3.8, its C client, kazoo 2.8 and its test deps) if missing;
#   2. installs npm deps and builds dist/;
#   3. runs test/conformance/*.test.ts with node:test, if there are any;
#   4. runs kazoo's own test suite against `node dist/cli/main.js server` (one standalone server)
#      and fails on any failure or error that test/conformance/kazoo-reference-failures.txt does
#      not list (what fails against the real ZooKeeper too, or needs an ensemble). No reruns:
#      tests that fail only in the full run (e.g. an intermittently short `envi` reply) are bugs.
# Logs go to test-artifacts/. The last line printed is `kazoo: N passed, M failed`.
#   scripts/conformance.sh [pytest args]    e.g. /usr/lib/python3/dist-packages/kazoo/tests/test_paths.py
# Env: SERVER_CMD (default "node <root>/dist/cli/main.js server"; it gets a zoo.cfg path appended),
#      SKIP_BUILD=1, SUITE_S (kazoo suite timeout, s, default 1500), PORT_OFFSET (default 31000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared="$root/../shared/conformance"
art="$root/test-artifacts"
expected="$root/test/conformance/kazoo-reference-failures.txt"
mkdir -p "$art"
export LC_ALL=C

# 1. Debian packages (install-deps.sh is idempotent; it needs root only when something is missing).
if [ -f "$shared/install-deps.sh" ]; then
  bash "$shared/install-deps.sh"
else
  pkgs=(zookeeper zookeeper-bin libzookeeper-mt-dev python3-kazoo python3-pytest python3-mock
        python3-objgraph python3-gevent python3-eventlet
        libjetty9-java libjackson2-databind-java libservlet-api-java)
  missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# 2. npm deps and build.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  node scripts/ensure-deps.mjs
  npm run build
fi

# 3. node:test conformance files (they drive the Debian tools against zkts).
status=0
shopt -s nullglob
node_tests=(test/conformance/*.test.ts)
shopt -u nullglob
if [ ${#node_tests[@]} -gt 0 ]; then
  echo "== node conformance tests: ${node_tests[*]}"
  node --import tsx --test --test-reporter=spec "${node_tests[@]}" 2>&1 \
    | tee "$art/node-conformance.log" || { echo "== node conformance tests FAILED"; status=1; }
fi

# 4. kazoo's suite, via the shared runner (or the project's copy of it when ../shared is absent).
runner="$shared/kazoo/run.sh"
[ -f "$runner" ] || runner="$root/scripts/kazoo/run.sh"
export SERVER_CMD="${SERVER_CMD:-node $root/dist/cli/main.js server}"
export CLUSTER_SIZE=1
log="$art/kazoo.log"

# Preflight: a server that never accepts connections would make every test wait out its 15 s
# connect timeout (the suite's 25 min); fail fast instead.
port="${PORT_OFFSET:-31000}" pre=$(mktemp -d)
printf 'tickTime=2000\ndataDir=%s/data\nclientPort=%s\nadmin.serverPort=%s\n4lw.commands.whitelist=*\n' \
  "$pre" "$port" $((port + 3)) > "$pre/zoo.cfg"
mkdir -p "$pre/data"
$SERVER_CMD "$pre/zoo.cfg" > "$art/preflight-server.log" 2>&1 &
pid=$! up=0
for _ in $(seq 60); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { up=1; break; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.25
done
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$pre"
if [ "$up" != 1 ]; then
  echo "== kazoo: suite not run: '$SERVER_CMD zoo.cfg' did not accept connections on" \
       "127.0.0.1:$port (it exited, or 15 s passed); its output:"; tail -n 30 "$art/preflight-server.log"
  echo "kazoo: 0 passed, 0 failed"
  exit 1
fi

echo "== kazoo suite against: $SERVER_CMD (log: $log)"
LOG="$log" bash "$runner" "$@" || true

# Node ids as `kazoo/tests/test_x.py::Class::test`, whatever rootdir pytest picked.
failed_ids() { grep -E '^(FAILED|ERROR) ' "$1" | awk '{print $2}' \
  | sed -E 's#^([^:]*/)?(test_[^/:]*\.py)#kazoo/tests/\2#' | sort -u; }
count() { { grep -oE "[0-9]+ $2" <<<"$1" || true; } | awk '{s+=$1} END {print s+0}'; }
summary=$(grep -E '[0-9]+ (passed|failed|errors?|skipped|deselected).* in [0-9.]+s' "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  passed=$(count "$summary" passed)
  failed=$(( $(count "$summary" failed) + $(count "$summary" 'errors?') ))
else
  echo "== kazoo: no pytest summary line (suite timed out or crashed); counting progress marks"
  status=1
  marks=$(grep -E '^[.FEsxX]+ *(\[ *[0-9]+%\])?$' "$log" | sed -E 's/ *\[.*//' | tr -d '\n' || true)
  passed=$(tr -cd . <<<"$marks" | wc -c)
  failed=$(tr -cd FE <<<"$marks" | wc -c)
fi
echo "== kazoo summary: ${summary:-none}"

listed=$(grep -vE '^[[:space:]]*(#|$)' "$expected" | awk '{print $1}' | sort -u || true)
unexpected=$(comm -23 <(failed_ids "$log") <(printf '%s\n' "$listed" | sed '/^$/d'))
if [ -n "$unexpected" ]; then
  echo "== kazoo: failing, not in the reference failures (see $log):"; sed 's/^/  /' <<<"$unexpected"
  status=1
fi
if [ $# -eq 0 ] && [ -n "$summary" ]; then
  fixed=$(comm -13 <(failed_ids "$log") <(printf '%s\n' "$listed" | sed '/^$/d'))
  [ -z "$fixed" ] || { echo "== kazoo: listed reference failures that pass here (fine):"; sed 's/^/  /' <<<"$fixed"; }
fi

echo "kazoo: $passed passed, $failed failed"
exit "$status"
