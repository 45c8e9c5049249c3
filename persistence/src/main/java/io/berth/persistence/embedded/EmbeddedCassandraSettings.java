package io.berth.persistence.embedded;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How to run the embedded node. Validated on construction: a bad value is an {@link IllegalArgumentException} naming
 * the field and the rule, before anything is written or started.
 *
 * @param dataRoot     the node's own directory (configuration, data, commit log, log, node file)
 * @param address      listen and native-transport address; loopback, or the local cluster's segment in 198.18.0.0/15
 * @param nativePort   CQL port; 0 picks a free port at start
 * @param storagePort  inter-node port (bound even by a single node); 0 picks a free port at start
 * @param heap         the child JVM's -Xmx and -Xms, e.g. {@code 768m}
 * @param owner        whose death ends the node
 * @param startTimeout how long to wait for CQL to answer
 * @param commitlogSync {@code group} (default: a write is acknowledged once its commit-log section is fsynced, so an
 *                      acknowledged write survives a killed node) or {@code periodic} (Cassandra's own default: fsync
 *                      every 10 s; a killed single node loses up to 10 s of acknowledged writes; for comparisons only)
 * @param passwordAuthentication true: the node runs Cassandra's {@code PasswordAuthenticator} and
 *                      {@code CassandraAuthorizer}, so a client logs in as a role ({@link EmbeddedCassandraRoles} sets up
 *                      Berth's); false: any client that reaches the port is served (tests on loopback)
 * @param nativeTls     TLS required on the CQL port, or empty for plain TCP
 */
public record EmbeddedCassandraSettings(
    Path dataRoot, String address, int nativePort, int storagePort, String heap, Owner owner, Duration startTimeout,
    String commitlogSync, boolean passwordAuthentication, Optional<NativeTls> nativeTls) {

  /** With the durable default, {@code group} commit-log sync, and no authentication. */
  public EmbeddedCassandraSettings(Path dataRoot, String address, int nativePort, int storagePort, String heap, Owner owner, Duration startTimeout) {
    this(dataRoot, address, nativePort, storagePort, heap, owner, startTimeout, "group");
  }

  /** Without authentication. */
  public EmbeddedCassandraSettings(Path dataRoot, String address, int nativePort, int storagePort, String heap, Owner owner,
                                   Duration startTimeout, String commitlogSync) {
    this(dataRoot, address, nativePort, storagePort, heap, owner, startTimeout, commitlogSync, false, Optional.empty());
  }

  private static final Pattern HEAP = Pattern.compile("[1-9][0-9]*[mMgG]");

  /** Whose life bounds the node's. */
  public sealed interface Owner {
    /** The starting JVM, through a pipe on the child's stdin: its end (even by SIGKILL) stops the node. */
    record ParentPipe() implements Owner {}

    /** Any process by id, e.g. the Maven process that runs several modules' tests against one node. */
    record Process(long pid) implements Owner {}

    /** Nobody: runs until {@link EmbeddedCassandra#stop(Path)} (for a supervisor such as {@code bin/berth}). */
    record Detached() implements Owner {}

    /** The child's {@code berth.cassandra.owner} property. */
    default String property() {
      if (this instanceof Process p) return "pid:" + p.pid();
      if (this instanceof Detached) return "none";
      return "stdin";
    }
  }

  public EmbeddedCassandraSettings {
    Objects.requireNonNull(dataRoot, "embedded.data-root: must be set");
    if (!dataRoot.isAbsolute()) throw new IllegalArgumentException("embedded.data-root: must be an absolute path, was '" + dataRoot + "'");
    Objects.requireNonNull(address, "embedded.address: must be set");
    try {
      // Loopback, or the local cluster's own segment in 198.18.0.0/15 (a bridge Berth creates on this machine,
      // never routed out): the embedded node serves this machine only.
      InetAddress a = InetAddress.getByName(address);
      byte[] b = a.getAddress();
      boolean localClusterSegment = b.length == 4 && (b[0] & 0xff) == 198 && ((b[1] & 0xff) == 18 || (b[1] & 0xff) == 19);
      if (!a.isLoopbackAddress() && !localClusterSegment) {
        throw new IllegalArgumentException("embedded.address: must be a loopback address or one of the local cluster's in 198.18.0.0/15 (the embedded node serves this machine only), was '" + address + "'");
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("embedded.address: must be an IP address, was '" + address + "'", e);
    }
    checkPort("embedded.native-port", nativePort);
    checkPort("embedded.storage-port", storagePort);
    if (nativePort != 0 && nativePort == storagePort) {
      throw new IllegalArgumentException("embedded.storage-port: must differ from embedded.native-port, both were " + nativePort);
    }
    if (heap == null || !HEAP.matcher(heap).matches()) {
      throw new IllegalArgumentException("embedded.heap: must be a size like 512m or 1g, was '" + heap + "'");
    }
    Objects.requireNonNull(owner, "owner: must be set");
    if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
      throw new IllegalArgumentException("embedded.start-timeout: must be positive, was " + startTimeout);
    }
    Objects.requireNonNull(nativeTls, "embedded.tls: Optional.empty() for none");
    if (!"group".equals(commitlogSync) && !"periodic".equals(commitlogSync)) {
      throw new IllegalArgumentException("embedded.commitlog-sync: must be group or periodic, was '" + commitlogSync + "'");
    }
  }

  private static void checkPort(String field, int port) {
    if (port < 0 || port > 65535) throw new IllegalArgumentException(field + ": must be 0 (pick a free one) or 1-65535, was " + port);
  }

  /** Reads {@code berth.persistence.embedded}; the data root is given (it lives under the node's data root). */
  public static EmbeddedCassandraSettings fromConfig(Config embedded, Path dataRoot, Owner owner) {
    return new EmbeddedCassandraSettings(
        dataRoot,
        embedded.getString("address"),
        embedded.getInt("native-port"),
        embedded.getInt("storage-port"),
        embedded.getString("heap"),
        owner,
        embedded.getDuration("start-timeout"),
        embedded.getString("commitlog-sync"));
  }

  public EmbeddedCassandraSettings withPorts(int nativePort, int storagePort) {
    return new EmbeddedCassandraSettings(dataRoot, address, nativePort, storagePort, heap, owner, startTimeout, commitlogSync,
        passwordAuthentication, nativeTls);
  }

  /** The same node with Cassandra's password authentication and role-based authorization on. */
  public EmbeddedCassandraSettings withPasswordAuthentication() {
    return new EmbeddedCassandraSettings(dataRoot, address, nativePort, storagePort, heap, owner, startTimeout, commitlogSync, true, nativeTls);
  }

  /** The same node requiring TLS on its CQL port. */
  public EmbeddedCassandraSettings withNativeTls(NativeTls tls) {
    return new EmbeddedCassandraSettings(dataRoot, address, nativePort, storagePort, heap, owner, startTimeout, commitlogSync,
        passwordAuthentication, Optional.of(tls));
  }

  /** The client TLS context for this node's CQL port, or null when it is plain TCP. */
  javax.net.ssl.SSLContext clientTlsOrNull() {
    return nativeTls.map(NativeTls::clientContext).orElse(null);
  }
}
