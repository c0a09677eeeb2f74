# zk38-writes.py — drives writes of every txn type against a real ZooKeeper so that its dataDir
# can be kept as a golden fixture (see capture-zk38-datadir.sh).
#   python3 zk38-writes.py host:port phase1|phase2|orphan|dump OUT.json
# phase1: createSession, create (persistent/ephemeral/sequential), create2, createContainer,
#   createTTL, setData, setACL, delete, multi (ok and failed, with check), error txns, a session
#   that expires with ephemerals (closeSession with paths2Delete), a container reaped by the
#   server (deleteContainer), close of a session.
# keeper: a session with an ephemeral that stays open across the restart (in the snapshot).
# phase2: more writes after a restart; leaves its session open (the caller kills the server).
# dump: every node's data, stat and ACL as JSON.
import base64
import json
import os
import subprocess
import sys
import time
from collections import namedtuple

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.protocol.serialization import Create2, int_struct, long_struct
from kazoo.security import make_acl, make_digest_acl, OPEN_ACL_UNSAFE

hosts = sys.argv[1]
phase = sys.argv[2]


class CreateContainer(Create2):
    type = 19


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        b = Create2(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(long_struct.pack(self.ttl))
        return b

    @classmethod
    def deserialize(cls, data, offset):
        return Create2.deserialize(data, offset)


def call(zk, req):
    r = zk.handler.async_result()
    zk._call(req, r)
    return r.get(timeout=10)


def client(timeout=4.0):
    zk = KazooClient(hosts=hosts, timeout=timeout)
    zk.start(timeout=10)
    return zk


def expect(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc:
        return
    raise AssertionError("expected %s" % exc.__name__)


def wait_gone(zk, path):
    deadline = time.time() + 30
    while zk.exists(path) is not None:
        if time.time() > deadline:
            raise AssertionError("still there: " + path)
        time.sleep(0.1)


def phase1():
    zk = client()
    zk.create("/app", b"app data")
    zk.create("/app/cfg", b"\x00\x01\x02 binary", include_data=True)  # create2
    first_seq = zk.create("/app/seq-", b"s1", sequence=True)
    zk.create("/app/seq-", b"s2", sequence=True)
    zk.create("/app/empty", b"")
    zk.create("/app/nodata", None)
    zk.set("/app", b"app data v2")
    zk.set("/app", b"app data v3", version=1)
    expect(BadVersionError, zk.set, "/app", b"x", version=9)  # error txn
    expect(NodeExistsError, zk.create, "/app", b"")  # error txn
    expect(NoNodeError, zk.delete, "/nope")  # error txn
    secret = make_digest_acl("user", "pw", all=True)
    zk.create("/secure", b"s", acl=[secret, make_acl("world", "anyone", read=True)])
    zk.set_acls("/app/empty", [make_acl("world", "anyone", read=True, write=True)], version=0)
    zk.set_acls("/app/nodata", [make_acl("ip", "127.0.0.1", all=True)])
    zk.create("/app/tmp", b"t")
    zk.delete("/app/tmp")
    call(zk, CreateContainer("/ctr", b"container", OPEN_ACL_UNSAFE, 4))
    zk.create("/ctr/child", b"c")
    zk.delete("/ctr/child")  # the reaper now deletes /ctr (deleteContainer)
    call(zk, CreateTTL("/ttl", b"ttl data", OPEN_ACL_UNSAFE, 5, 3600000))
    call(zk, CreateTTL("/ttl-seq-", b"", OPEN_ACL_UNSAFE, 6, 7200000))
    t = zk.transaction()
    t.create("/multi", b"m")
    t.create("/multi/a", b"a", ephemeral=True)
    t.set_data("/app", b"from multi")
    t.check("/app", 3)
    t.delete(first_seq)
    print("multi ok:", t.commit(), flush=True)
    t = zk.transaction()
    t.create("/multi/b", b"b")
    t.check("/app", 99)  # fails: the whole multi becomes error sub-txns
    t.create("/multi/c", b"c")
    print("multi failed:", t.commit(), flush=True)
    # A session that dies without closing: the server expires it (closeSession with paths).
    child = subprocess.Popen([sys.executable, __file__, hosts, "orphan"], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    child.kill()
    child.wait()
    wait_gone(zk, "/orphan-eph")
    wait_gone(zk, "/ctr")
    # A session closed by its client with an ephemeral.
    other = client()
    other.create("/closing-eph", b"bye", ephemeral=True)
    other.stop()
    other.close()
    zk.stop()
    zk.close()


def orphan():
    zk = client(timeout=2.0)
    zk.create("/orphan-eph", b"o", ephemeral=True)
    zk.create("/orphan-eph-seq-", b"", ephemeral=True, sequence=True)
    print("ready", flush=True)
    time.sleep(3600)


def ready(zk, timeout_s):
    # The id and the timeout ZooKeeper will have negotiated (tickTime 500: between 1 s and 10 s).
    print("ready %d %d" % (zk.client_id[0], min(max(int(timeout_s * 1000), 1000), 10000)), flush=True)


def keeper():
    zk = client(timeout=10.0)
    zk.create("/keeper-eph", b"lives across a restart", ephemeral=True)
    ready(zk, 10.0)
    time.sleep(3600)


def phase2():
    zk = client(timeout=30.0)
    zk.create("/after", b"after restart")
    zk.create("/after/eph", b"live", ephemeral=True)
    zk.set("/app/cfg", b"changed after snapshot")
    zk.delete("/app/empty")
    zk.add_auth("digest", "user:pw")
    zk.set_acls("/secure", OPEN_ACL_UNSAFE)
    t = zk.transaction()
    t.create("/after/m1", b"1")
    t.create("/after/m2", b"2", sequence=True)
    t.commit()
    ready(zk, 30.0)
    time.sleep(3600)  # the caller dumps the tree and kills the server


def dump(out):
    zk = client()
    nodes = {}

    def walk(path):
        data, stat = zk.get(path)
        acl, _ = zk.get_acls(path)
        nodes[path] = {
            "data": None if data is None else base64.b64encode(data).decode(),
            "stat": {k: getattr(stat, k) for k in (
                "czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
                "ephemeralOwner", "dataLength", "numChildren", "pzxid")},
            "acl": [{"perms": a.perms, "scheme": a.id.scheme, "id": a.id.id} for a in acl],
        }
        for c in zk.get_children(path):
            walk(path.rstrip("/") + "/" + c)

    walk("/")
    with open(out, "w") as f:
        json.dump(nodes, f, indent=1, sort_keys=True)
    zk.stop()
    zk.close()


{"phase1": phase1, "phase2": phase2, "orphan": orphan, "keeper": keeper, "dump": lambda: dump(sys.argv[3])}[phase]()
