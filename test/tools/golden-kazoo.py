# golden-kazoo.py — scripted kazoo (python3-kazoo 2.8) sessions whose traffic is captured as golden
# bytes by test/tools/capture-golden.ts. Usage: python3 golden-kazoo.py host:port scenario
# A line "@@ name" on stdout asks the driver to do something (see capture-golden.ts); the script
# then waits for one line on stdin before going on.
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoAuthError, NodeExistsError, NoNodeError
from kazoo.protocol.states import KazooState
from kazoo.security import make_acl, make_digest_acl, OPEN_ACL_UNSAFE

hosts, scenario = sys.argv[1], sys.argv[2]


def barrier(name):
    print("@@ " + name, flush=True)
    if sys.stdin.readline() == "":
        sys.exit("driver went away")


def client():
    zk = KazooClient(hosts=hosts, timeout=4.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.2})
    zk.start(timeout=10)
    return zk


def expect(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc:
        return
    raise AssertionError("expected %s" % exc.__name__)


def wait(event, what):
    if not event.wait(10):
        raise AssertionError("timed out waiting for " + what)


def basic():
    zk = client()
    zk.create("/kz", b"root data")
    zk.create("/kz/eph", b"e", ephemeral=True)
    zk.create("/kz/seq-", b"s", sequence=True)
    zk.create("/kz/eseq-", b"", ephemeral=True, sequence=True)
    zk.create("/kz/c2", b"with stat", include_data=True)
    expect(NodeExistsError, zk.create, "/kz", b"")
    zk.get("/kz")
    zk.set("/kz", b"new data")
    expect(BadVersionError, zk.set, "/kz", b"x", version=7)
    zk.exists("/kz")
    zk.exists("/kz/missing")
    zk.get_children("/kz")
    zk.get_children("/kz", include_data=True)
    zk.get_acls("/kz")
    zk.set_acls("/kz", OPEN_ACL_UNSAFE, version=0)
    zk.sync("/kz")
    expect(NoNodeError, zk.delete, "/kz/missing")
    zk.delete("/kz/c2", version=0)
    barrier("ping")
    zk.stop()
    zk.close()


def multi():
    zk = client()
    zk.create("/kzm", b"")
    t = zk.transaction()
    t.create("/kzm/a", b"A")
    t.set_data("/kzm", b"parent", version=0)
    t.check("/kzm", 1)
    t.delete("/kzm/a")
    print(t.commit(), flush=True)
    t = zk.transaction()
    t.create("/kzm/b", b"B")
    t.check("/kzm", 7)
    t.create("/kzm/c", b"C")
    print(t.commit(), flush=True)
    zk.stop()
    zk.close()


def watch():
    zk = client()
    fired = {}

    def on(name):
        ev = threading.Event()
        fired[name] = ev
        return lambda e: ev.set()

    zk.exists("/kzw", watch=on("created"))
    zk.create("/kzw", b"1")
    wait(fired["created"], "NodeCreated")
    zk.get("/kzw", watch=on("changed"))
    zk.set("/kzw", b"2")
    wait(fired["changed"], "NodeDataChanged")
    zk.get_children("/kzw", watch=on("children"))
    zk.create("/kzw/child", b"")
    wait(fired["children"], "NodeChildrenChanged")
    zk.get("/kzw/child", watch=on("deleted"))
    zk.delete("/kzw/child")
    wait(fired["deleted"], "NodeDeleted")
    zk.stop()
    zk.close()


def auth():
    zk = client()
    zk.add_auth("digest", "alice:secret")
    acl = make_digest_acl("alice", "secret", all=True)
    zk.create("/kza", b"private", acl=[acl])
    zk.create("/kzb", b"readable", acl=[acl, make_acl("world", "anyone", read=True)])
    zk.get("/kza")
    zk.get_acls("/kza")
    other = client()
    expect(NoAuthError, other.get, "/kza")
    expect(NoAuthError, other.get_acls, "/kza")
    other.get_acls("/kzb")  # READ without ADMIN: digest ids come back as "alice:x"
    other.stop()
    other.close()
    zk.delete("/kza")
    zk.delete("/kzb")
    zk.stop()
    zk.close()


def reconnect():
    # kazoo 2.8 has no SetWatches: this captures a session resumed on a new connection
    # (sessionId, passwd and lastZxidSeen in the ConnectRequest).
    zk = client()
    zk.create("/kzr", b"1")
    reconnected = threading.Event()
    lost = threading.Event()

    def listener(state):
        if state == KazooState.SUSPENDED:
            lost.set()
        elif state == KazooState.CONNECTED and lost.is_set():
            reconnected.set()

    zk.add_listener(listener)
    zk.get("/kzr", watch=lambda e: None)
    barrier("cut")
    wait(reconnected, "reconnection")
    zk.set("/kzr", b"2")
    zk.delete("/kzr")
    zk.stop()
    zk.close()


{"basic": basic, "multi": multi, "watch": watch, "auth": auth, "reconnect": reconnect}[scenario]()
print("@@ done", flush=True)
