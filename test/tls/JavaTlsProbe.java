// JavaTlsProbe.java — the Java side of test/tls: the JDK as the oracle for how X509 names print,
// and Apache ZooKeeper's own Java client over TLS (ClientCnxnSocketNetty, zookeeper.client.secure
// and zookeeper.ssl.* from -D flags).
//   dn <cert.pem|der>...        one line per certificate: "dn:" + getSubjectX500Principal().getName(),
//                               the id X509AuthenticationProvider gives a client
//   valid <dn>...               one line per name: whether new X500Principal(name) accepts it
//   client <host:port> <ms> <op>...   connects (waiting up to ms for SyncConnected), then runs
//                               each op and prints one line per op:
//                                 whoami            → "whoami <scheme>:<user>;…"
//                                 get=/p            → "get /p OK <data>" or "get /p ERR <code>"
//                                 create=/p         → a world-open znode
//                                 createx509=/p=dn  → a znode only x509 id dn may read
//                               "NOT_CONNECTED" (exit 2) when no session was established in time.
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;

public class JavaTlsProbe {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "dn":
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                for (int i = 1; i < args.length; i++) {
                    try (FileInputStream in = new FileInputStream(args[i])) {
                        X509Certificate c = (X509Certificate) cf.generateCertificate(in);
                        System.out.println("dn:" + c.getSubjectX500Principal().getName());
                    }
                }
                break;
            case "valid":
                for (int i = 1; i < args.length; i++) {
                    boolean ok;
                    try {
                        new X500Principal(args[i]);
                        ok = true;
                    } catch (IllegalArgumentException e) {
                        ok = false;
                    }
                    System.out.println(ok);
                }
                break;
            case "client":
                System.exit(client(args));
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }

    static int client(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        Watcher w = e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        };
        ZooKeeper zk = new ZooKeeper(args[1], 30000, w);
        try {
            if (!connected.await(Long.parseLong(args[2]), TimeUnit.MILLISECONDS)) {
                System.out.println("NOT_CONNECTED");
                System.out.flush();
                return 2;
            }
            System.out.println("CONNECTED");
            for (int i = 3; i < args.length; i++) System.out.println(op(zk, args[i]));
            System.out.flush();
            return 0;
        } finally {
            zk.close(2000);
        }
    }

    static String op(ZooKeeper zk, String op) throws Exception {
        String[] p = op.split("=", 3);
        try {
            switch (p[0]) {
                case "whoami": {
                    StringBuilder sb = new StringBuilder("whoami ");
                    for (ClientInfo ci : zk.whoAmI()) sb.append(ci.getAuthScheme()).append(':').append(ci.getUser()).append(';');
                    return sb.toString();
                }
                case "get":
                    return "get " + p[1] + " OK " + new String(zk.getData(p[1], false, null), StandardCharsets.UTF_8);
                case "create":
                    zk.create(p[1], "open".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    return "create " + p[1] + " OK";
                case "createx509": {
                    List<ACL> acl = new ArrayList<>();
                    acl.add(new ACL(ZooDefs.Perms.ALL, new Id("x509", p[2])));
                    zk.create(p[1], "secret".getBytes(StandardCharsets.UTF_8), acl, CreateMode.PERSISTENT);
                    return "createx509 " + p[1] + " OK";
                }
                default:
                    throw new IllegalArgumentException(op);
            }
        } catch (KeeperException e) {
            return p[0] + " " + (p.length > 1 ? p[1] : "") + " ERR " + e.code();
        }
    }
}
