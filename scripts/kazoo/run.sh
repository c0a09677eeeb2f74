#!/usr/bin/env bash
# Fallback copy of ../shared/conformance/kazoo/run.sh (and bin/java), used by scripts/conformance.sh
# only when ../shared is not beside the clone. Keep in sync with the shared original.
# Runs kazoo's own test suite (Debian package python3-kazoo 2.8) against the servers that
# SERVER_CMD starts. kazoo's harness launches each server as `java ... QuorumPeerMain zoo.cfg`;
# bin/java turns that into `$SERVER_CMD zoo.cfg`. Without SERVER_CMD it runs the real Apache
# ZooKeeper from Debian, for a reference run.
#   SERVER_CMD="node dist/cli/main.js server" CLUSTER_SIZE=1 ../shared/conformance/kazoo/run.sh [pytest args]
# Needs: ../shared/conformance/install-deps.sh once. Prints the failures and pytest's summary line.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Without SERVER_CMD the real Java command kazoo builds is run unchanged (REFERENCE=1).
[ -n "${SERVER_CMD:-}" ] || export REFERENCE=1
export SERVER_CMD="${SERVER_CMD:-}"
export PATH="$here/bin:$PATH"
export ZOOKEEPER_CLASSPATH=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar ZOOKEEPER_VERSION=3.8.0
export ZOOKEEPER_CLUSTER_SIZE="${CLUSTER_SIZE:-3}" ZOOKEEPER_PORT_OFFSET="${PORT_OFFSET:-31000}"
work=$(mktemp -d); cd "$work"
tests=("$@"); [ ${#tests[@]} -gt 0 ] || tests=(/usr/lib/python3/dist-packages/kazoo/tests/)
timeout "${SUITE_S:-1500}" /usr/bin/python3 -m pytest -q -p no:cacheprovider -rfE "${tests[@]}" \
  > "${LOG:-$work/kazoo.log}" 2>&1
grep -E "^(FAILED|ERROR)|passed|failed" "${LOG:-$work/kazoo.log}" | grep -v "terminate with"
rm -rf "$work"
