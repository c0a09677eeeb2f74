#!/usr/bin/env bash
# capture-zk38-datadir.sh — regenerates test/storage/fixtures/zk38/ from the real Apache ZooKeeper
# 3.8 (Debian package): runs it on a fresh dataDir, drives every txn type with kazoo
# (zk38-writes.py), restarts it (ZooKeeper writes a snapshot of the whole tree at startup), writes
# more, dumps every node as a client sees it, kills the server with -9 and keeps its dataDir plus
# the output of ZooKeeper's own dump tools (TxnLogToolkit, which replaced LogFormatter, and
# SnapshotFormatter).
#   bash test/storage/tools/capture-zk38-datadir.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../fixtures/zk38
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/zoo.cfg" <<EOF
tickTime=500
dataDir=$work/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
snapCount=100000
4lw.commands.whitelist=*
EOF
export ZK_JVMFLAGS="-Dzookeeper.preAllocSize=4 -Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=200"
zk() {
  /work/shared/conformance/zookeeper.sh "$work/zoo.cfg" >>"$work/zk.log" 2>&1 &
  zkpid=$!
  for _ in $(seq 100); do
    if python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),1); s.sendall(b"ruok"); sys.exit(s.recv(4)!=b"imok")' "$port" 2>/dev/null; then return; fi
    sleep 0.2
  done
  echo "ZooKeeper did not start; log in $work/zk.log" >&2
  exit 1
}
trap 'kill -9 "$zkpid" 2>/dev/null || true' EXIT
zk
coproc KEEPER { exec /usr/bin/python3 "$here/zk38-writes.py" "127.0.0.1:$port" keeper 2>/dev/null; }
read -r ready1 sid1 to1 <&"${KEEPER[0]}"
[ "$ready1" = ready ]
/usr/bin/python3 "$here/zk38-writes.py" "127.0.0.1:$port" phase1
kill "$zkpid"; wait "$zkpid" || true
zk
coproc P2 { exec /usr/bin/python3 "$here/zk38-writes.py" "127.0.0.1:$port" phase2 2>/dev/null; }
read -r ready2 sid2 to2 <&"${P2[0]}"
[ "$ready2" = ready ]
/usr/bin/python3 "$here/zk38-writes.py" "127.0.0.1:$port" dump "$work/tree.json"
kill -9 "$zkpid"; wait "$zkpid" || true
kill "$P2_PID" "$KEEPER_PID" || true

rm -rf "$out"
mkdir -p "$out"
cp -r "$work/data/version-2" "$out/"
rm -f "$out/version-2/acceptedEpoch" "$out/version-2/currentEpoch"
cp "$work/tree.json" "$out/tree.json"
# The sessions open when the server was killed: id (decimal) -> negotiated timeout in ms.
printf '{"%s": %s, "%s": %s}\n' "$sid1" "$to1" "$sid2" "$to2" >"$out/sessions.json"
cp_java="/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar:/usr/share/java/commons-cli.jar:/usr/share/java/metrics-core.jar:/usr/share/java/snappy-java.jar"
for f in "$out"/version-2/log.*; do
  TZ=UTC java -cp "$cp_java" org.apache.zookeeper.server.persistence.TxnLogToolkit -d "$f" >"$out/$(basename "$f").TxnLogToolkit.txt"
done
for f in "$out"/version-2/snapshot.*; do
  TZ=UTC java -cp "$cp_java" org.apache.zookeeper.server.SnapshotFormatter -d "$f" >"$out/$(basename "$f").SnapshotFormatter.txt"
done
ls -l "$out" "$out/version-2"
rm -rf "$work"
