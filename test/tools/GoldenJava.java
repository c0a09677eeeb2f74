// GoldenJava.java — scripted sessions of ZooKeeper's own Java client (Debian's 3.8 jar) whose
// traffic test/tools/capture-golden.ts records as golden bytes. Run as a single-file program:
//   java -cp <zookeeper jars> GoldenJava.java host:port scenario
// A line "@@ name" on stdout asks the driver to do something; the program then waits for one line
// on stdin. Written for capturing bytes, not as an example of using the client.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class GoldenJava {
    static final BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    static String hosts;

    static void barrier(String name) throws Exception {
        System.out.println("@@ " + name);
        System.out.flush();
        if (stdin.readLine() == null) throw new IllegalStateException("driver went away");
    }

    /** A session whose default watcher queues every event. */
    static final class Session {
        final BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        final ZooKeeper zk;

        Session() throws Exception {
            zk = new ZooKeeper(hosts, 4000, events::add);
            awaitState(Watcher.Event.KeeperState.SyncConnected);
        }

        WatchedEvent next() throws InterruptedException {
            WatchedEvent e = events.poll(10, TimeUnit.SECONDS);
            if (e == null) throw new IllegalStateException("timed out waiting for an event");
            return e;
        }

        void awaitState(Watcher.Event.KeeperState state) throws InterruptedException {
            for (int i = 0; i < 100; i++) {
                WatchedEvent e = next();
                if (e.getType() == Watcher.Event.EventType.None && e.getState() == state) return;
            }
            throw new IllegalStateException("never reached " + state);
        }

        WatchedEvent awaitNode(Watcher.Event.EventType type, String path) throws InterruptedException {
            for (int i = 0; i < 100; i++) {
                WatchedEvent e = next();
                if (e.getType() == type && path.equals(e.getPath())) return e;
            }
            throw new IllegalStateException("never saw " + type + " " + path);
        }
    }

    interface Call { void run() throws Exception; }

    static void expect(KeeperException.Code code, Call call) throws Exception {
        try {
            call.run();
        } catch (KeeperException e) {
            if (e.code() == code) return;
            throw e;
        }
        throw new IllegalStateException("expected " + code);
    }

    static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static void createModes() throws Exception {
        Session s = new Session();
        ZooKeeper zk = s.zk;
        Stat stat = new Stat();
        zk.create("/jc", b("parent"), OPEN, CreateMode.PERSISTENT);
        zk.create("/jc/p2", b("create2"), OPEN, CreateMode.PERSISTENT, stat);
        zk.create("/jc/e", b("eph"), OPEN, CreateMode.EPHEMERAL, stat);
        zk.create("/jc/ps-", b(""), OPEN, CreateMode.PERSISTENT_SEQUENTIAL, stat);
        zk.create("/jc/es-", null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
        zk.create("/jc/container", b("c"), OPEN, CreateMode.CONTAINER, stat);
        zk.create("/jc/ttl", b("t"), OPEN, CreateMode.PERSISTENT_WITH_TTL, stat, 60000);
        zk.create("/jc/ttls-", b("ts"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, stat, 120000);
        expect(KeeperException.Code.NODEEXISTS, () -> zk.create("/jc", null, OPEN, CreateMode.PERSISTENT));
        expect(KeeperException.Code.NONODE, () -> zk.create("/nope/x", null, OPEN, CreateMode.PERSISTENT, stat));
        expect(KeeperException.Code.NOCHILDRENFOREPHEMERALS, () -> zk.create("/jc/e/x", null, OPEN, CreateMode.PERSISTENT));
        zk.getData("/jc", false, stat);
        zk.setData("/jc", b("changed"), 0);
        zk.exists("/jc/e", false);
        zk.exists("/jc/none", false);
        zk.getChildren("/jc", false, stat);
        zk.getChildren("/jc", false);
        zk.getEphemerals();
        zk.getEphemerals("/jc/e");
        zk.getAllChildrenNumber("/jc");
        zk.whoAmI();
        CountDownLatch synced = new CountDownLatch(1);
        zk.sync("/jc", (rc, path, ctx) -> synced.countDown(), null);
        if (!synced.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("sync");
        expect(KeeperException.Code.NOTEMPTY, () -> zk.delete("/jc", -1));
        expect(KeeperException.Code.BADVERSION, () -> zk.delete("/jc/p2", 5));
        zk.delete("/jc/p2", 0);
        barrier("ping");
        zk.close();
    }

    static void multi() throws Exception {
        Session s = new Session();
        ZooKeeper zk = s.zk;
        zk.create("/jm", null, OPEN, CreateMode.PERSISTENT);
        List<OpResult> ok = zk.multi(Arrays.asList(
            Op.create("/jm/a", b("A"), OPEN, CreateMode.PERSISTENT),
            Op.create("/jm/c", b("C"), OPEN, CreateMode.CONTAINER),
            Op.create("/jm/t", b("T"), OPEN, CreateMode.PERSISTENT_WITH_TTL, 60000),
            Op.setData("/jm/a", b("A2"), 0),
            Op.check("/jm/a", 1),
            Op.delete("/jm/a", 1)));
        System.out.println(ok);
        try {
            zk.multi(Arrays.asList(
                Op.create("/jm/b", b("B"), OPEN, CreateMode.PERSISTENT),
                Op.check("/jm", 42),
                Op.delete("/jm/missing", -1)));
            throw new IllegalStateException("multi should have failed");
        } catch (KeeperException e) {
            System.out.println(e.getResults());
        }
        List<OpResult> read = zk.multi(Arrays.asList(
            Op.getChildren("/jm"),
            Op.getData("/jm/c"),
            Op.getData("/jm/missing")));
        System.out.println(read);
        zk.close();
    }

    static void watches() throws Exception {
        Session s = new Session();
        ZooKeeper zk = s.zk;
        zk.create("/jw", b("0"), OPEN, CreateMode.PERSISTENT);
        zk.addWatch("/jw", AddWatchMode.PERSISTENT);
        zk.addWatch("/jw", AddWatchMode.PERSISTENT_RECURSIVE);
        zk.create("/jw/kid", b(""), OPEN, CreateMode.PERSISTENT);
        s.awaitNode(Watcher.Event.EventType.NodeCreated, "/jw/kid");
        zk.setData("/jw", b("1"), -1);
        s.awaitNode(Watcher.Event.EventType.NodeDataChanged, "/jw");
        Watcher w = e -> { };
        zk.getData("/jw/kid", w, null);
        zk.exists("/jw/none", w);
        zk.getChildren("/jw", w);
        zk.removeWatches("/jw/kid", w, Watcher.WatcherType.Data, false);
        zk.removeAllWatches("/jw", Watcher.WatcherType.Any, false);
        expect(KeeperException.Code.NOWATCHER, () -> zk.removeAllWatches("/jw/none/x", Watcher.WatcherType.Any, false));
        zk.close();
    }

    static void auth() throws Exception {
        Session s = new Session();
        ZooKeeper zk = s.zk;
        zk.addAuthInfo("digest", b("bob:pw"));
        zk.whoAmI();
        List<ACL> bobOnly = Collections.singletonList(
            new ACL(ZooDefs.Perms.ALL, new Id("digest", DigestAuthenticationProvider.generateDigest("bob:pw"))));
        zk.create("/ja", b("secret"), bobOnly, CreateMode.PERSISTENT);
        zk.create("/ja2", b(""), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        zk.setACL("/ja2", Arrays.asList(
            new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")),
            new ACL(ZooDefs.Perms.ALL, new Id("ip", "127.0.0.1"))), 0);
        zk.create("/ja4", b(""), Arrays.asList(bobOnly.get(0), new ACL(ZooDefs.Perms.READ, new Id("world", "anyone"))),
            CreateMode.PERSISTENT);
        zk.getACL("/ja", new Stat());
        Session other = new Session();
        expect(KeeperException.Code.NOAUTH, () -> other.zk.getData("/ja", false, null));
        expect(KeeperException.Code.NOAUTH, () -> other.zk.getACL("/ja", new Stat()));
        other.zk.getACL("/ja2", new Stat()); // ADMIN through the ip ACL
        other.zk.getACL("/ja4", new Stat()); // READ without ADMIN: digest ids come back as "bob:x"
        expect(KeeperException.Code.INVALIDACL,
            () -> other.zk.create("/ja3", null, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        other.zk.close();
        zk.delete("/ja", -1);
        zk.delete("/ja2", -1);
        zk.delete("/ja4", -1);
        zk.close();
    }

    static void reconnect() throws Exception {
        Session s = new Session();
        ZooKeeper zk = s.zk;
        zk.addAuthInfo("digest", b("carol:pw"));
        zk.create("/jr", b("0"), OPEN, CreateMode.PERSISTENT);
        zk.addWatch("/jr", AddWatchMode.PERSISTENT_RECURSIVE);
        zk.getData("/jr", true, null);
        zk.exists("/jr/none", true);
        zk.getChildren("/jr", true);
        barrier("cut");
        s.awaitState(Watcher.Event.KeeperState.Disconnected);
        s.awaitState(Watcher.Event.KeeperState.SyncConnected);
        zk.setData("/jr", b("1"), -1);
        s.awaitNode(Watcher.Event.EventType.NodeDataChanged, "/jr");
        zk.delete("/jr", -1);
        zk.close();
    }

    /** Strings outside the BMP: the Java client writes them as CESU-8 (two 3-byte surrogates). */
    static void cesu8() throws Exception {
        Session s = new Session();
        ZooKeeper zk = s.zk;
        String smile = new String(Character.toChars(0x1F600));
        zk.addAuthInfo("digest", b("u" + smile + ":pw")); // auth bytes: real UTF-8 (4 bytes)
        zk.whoAmI(); // the server writes the user name back, CESU-8
        zk.create("/jx", b(smile), Arrays.asList(
            new ACL(ZooDefs.Perms.ALL, new Id("digest", "v" + smile + ":hash")), // CESU-8 in the request
            new ACL(ZooDefs.Perms.ALL, new Id("world", "anyone"))), CreateMode.PERSISTENT);
        zk.getACL("/jx", new Stat()); // what the server made of it
        zk.delete("/jx", -1);
        zk.close();
    }

    public static void main(String[] args) throws Exception {
        hosts = args[0];
        switch (args[1]) {
            case "create-modes": createModes(); break;
            case "multi": multi(); break;
            case "watches": watches(); break;
            case "auth": auth(); break;
            case "reconnect": reconnect(); break;
            case "cesu8": cesu8(); break;
            default: throw new IllegalArgumentException(args[1]);
        }
        System.out.println("@@ done");
        System.out.flush();
    }
}
