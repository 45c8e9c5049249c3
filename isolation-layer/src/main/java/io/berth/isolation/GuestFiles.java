package io.berth.isolation;

import io.berth.isolation.rootfs.RootfsPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What Berth gave a container, written where its distribution reads it, at each start: {@code /etc/hostname}, its own
 * line in {@code /etc/hosts}, the host's name servers in {@code /etc/resolv.conf}, and, where the distribution has
 * them, a systemd-networkd unit and an ifupdown stanza for {@code eth0} that configure exactly what Berth already
 * configured (so networkd or ifupdown, when enabled, keeps the address instead of fighting it). As OpenVZ does at
 * each start, Berth is the source of these settings; the rest of each file is the container's own and is kept.
 *
 * <p>This class only composes the files, reading what the container holds now (the container is not running, so
 * nothing in it can change them meanwhile, and {@link RootfsPaths} never follows a link out of its root). The init
 * writes them after pivot_root, as the container's root (berth-nsexec's etcfiles.c). A file that is a symlink (a
 * resolv.conf managed by systemd-resolved, say) or not a regular file is the container's choice and is left alone.
 */
final class GuestFiles {
  /** Ends each line Berth keeps in a file it shares with the container (/etc/hosts, resolv.conf). */
  static final String MARK = "# berth";
  static final String NETWORKD_UNIT = "/etc/systemd/network/10-berth-eth0.network";
  static final String IFUPDOWN_STANZA = "/etc/network/interfaces.d/berth-eth0";
  /** Larger than any hosts or resolv.conf a server has; a bigger one is left alone rather than read into memory. */
  private static final long MAX_READ = 1L << 20;

  private GuestFiles() {}

  /** The start's {@code etc=PATH\nCONTENT} records for the container whose root filesystem is {@code rootfs}. */
  static List<String> records(Path rootfs, String hostname, Optional<NetworkAttachment> net, GuestDns dns) {
    List<String> out = new ArrayList<>();
    Optional<Path> etc = RootfsPaths.resolve(rootfs, "/etc").filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
    if (etc.isEmpty()) return out; // a root filesystem without /etc (a single static program): nothing reads these
    current(etc.get(), "hostname").ifPresent(old -> out.add(record("/etc/hostname", hostname + "\n")));
    current(etc.get(), "hosts").ifPresent(old -> out.add(record("/etc/hosts", hosts(old, hostname, net.map(NetworkAttachment::address)))));
    if (!dns.none()) current(etc.get(), "resolv.conf").ifPresent(old -> out.add(record("/etc/resolv.conf", resolvConf(old, dns))));
    if (net.isPresent()) {
      // Only where the distribution has the directory; a symlink in the unit's place (to /dev/null, say) opts out.
      ownFile(rootfs, NETWORKD_UNIT).ifPresent(p -> out.add(record(NETWORKD_UNIT, networkd(net.get(), dns))));
      ownFile(rootfs, IFUPDOWN_STANZA).ifPresent(p -> out.add(record(IFUPDOWN_STANZA, ifupdown(net.get()))));
    }
    return out;
  }

  /**
   * The start's records for a container whose init is systemd: a drop-in for every service that keeps the services
   * out of the namespaces CRIU cannot checkpoint when nested in the container's own (uts, ipc, user), so the booted
   * system can be live-migrated. A symlink in its place (to /dev/null) opts out.
   */
  static List<String> systemdRecords(Path rootfs) {
    return ownFileOrMissingDir(rootfs, CHECKPOINTABLE_DROP_IN).map(p -> List.of(record(p, CHECKPOINTABLE))).orElse(List.of());
  }

  static final String CHECKPOINTABLE_DROP_IN = "/etc/systemd/system/service.d/10-berth-checkpointable.conf";
  static final String CHECKPOINTABLE = """
      # Written by Berth at each start of this container. A live migration checkpoints the container with CRIU, and CRIU
      # cannot dump a uts, ipc or user namespace nested in the container's own ("Can't dump nested uts namespace"), which
      # ProtectHostname=, PrivateIPC= and PrivateUsers= would give a service. Every other sandboxing option stays as the
      # unit has it. To opt out (and give up live migration): ln -sf /dev/null on this file.
      [Service]
      ProtectHostname=no
      PrivateIPC=no
      PrivateUsers=no
      """;

  /** /etc/hosts: the container's own lines, less Berth's old one, then its name at its address (127.0.1.1 without one). */
  static String hosts(Optional<String> old, String hostname, Optional<String> address) {
    StringBuilder b = new StringBuilder();
    if (old.isEmpty()) {
      b.append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
    } else {
      keepOwnLines(old.get(), b);
    }
    // Debian's convention for a name without a static address of its own (Debian Reference, 5.1.1).
    b.append(address.orElse("127.0.1.1")).append('\t').append(hostname).append('\t').append(MARK).append('\n');
    return b.toString();
  }

  /** /etc/resolv.conf: the container's own lines less any nameserver, search or domain line, then the host's. */
  static String resolvConf(Optional<String> old, GuestDns dns) {
    StringBuilder b = new StringBuilder();
    if (old.isPresent()) {
      for (String line : old.get().split("\n", -1)) {
        String word = line.strip().split("\\s+")[0];
        if (line.endsWith(MARK) || word.equals("nameserver") || word.equals("search") || word.equals("domain")) continue;
        if (!line.isEmpty()) b.append(line).append('\n');
      }
    }
    if (!dns.search().isEmpty()) b.append("search ").append(String.join(" ", dns.search())).append(' ').append(MARK).append('\n');
    for (String n : dns.nameservers()) b.append("nameserver ").append(n).append(' ').append(MARK).append('\n');
    return b.toString();
  }

  /** A systemd-networkd unit that configures eth0 as Berth did: networkd, when enabled, then keeps it so. */
  static String networkd(NetworkAttachment net, GuestDns dns) {
    StringBuilder b = new StringBuilder()
        .append("# Written by Berth at each start of this container: eth0 as Berth configured it, so that systemd-networkd,\n")
        .append("# when enabled, keeps it instead of replacing it. Berth owns this file; change the address with Berth.\n")
        .append("[Match]\nName=eth0\n\n[Network]\n")
        .append("Address=").append(net.address()).append('/').append(net.prefixLength()).append('\n')
        .append("Gateway=").append(net.gateway()).append('\n');
    for (String n : dns.nameservers()) b.append("DNS=").append(n).append('\n');
    if (!dns.search().isEmpty()) b.append("Domains=").append(String.join(" ", dns.search())).append('\n');
    return b.append("DHCP=no\nIPv6AcceptRA=no\nKeepConfiguration=static\n").toString();
  }

  /** An ifupdown stanza that brings eth0 up and leaves its address to Berth ("manual": ifup adds none of its own). */
  static String ifupdown(NetworkAttachment net) {
    return "# Written by Berth at each start of this container. Berth configures eth0 (" + net.address() + "/" + net.prefixLength()
        + ", gateway " + net.gateway() + ")\n# before the container starts; \"manual\" tells ifupdown to bring it up and leave its address alone.\n"
        + "auto eth0\niface eth0 inet manual\n";
  }

  private static void keepOwnLines(String old, StringBuilder b) {
    String[] lines = old.split("\n", -1);
    int end = lines.length;
    while (end > 0 && lines[end - 1].isEmpty()) end--;
    for (int i = 0; i < end; i++) {
      if (!lines[i].endsWith(MARK)) b.append(lines[i]).append('\n');
    }
  }

  private static String record(String path, String content) {
    return path + "\n" + content;
  }

  /**
   * What /etc/NAME holds now: {@code Optional.of(Optional.empty())} when it is absent, its text when it is a regular
   * file, and empty when Berth must leave it alone (a symlink, a directory, a device, too large, unreadable).
   */
  private static Optional<Optional<String>> current(Path etc, String name) {
    Path file = etc.resolve(name);
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) return Optional.of(Optional.empty());
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
    try {
      if (Files.size(file) > MAX_READ) return Optional.empty();
      return Optional.of(Optional.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** {@code path}, when the file there is absent or a regular file, its directory made by the init if missing. */
  private static Optional<String> ownFileOrMissingDir(Path rootfs, String path) {
    int slash = path.lastIndexOf('/');
    Optional<Path> dir = RootfsPaths.resolve(rootfs, path.substring(0, slash));
    if (dir.isEmpty()) return Optional.of(path);
    if (!Files.isDirectory(dir.get(), LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
    return current(dir.get(), path.substring(slash + 1)).map(old -> path);
  }

  /** {@code path}, when its directory exists in the container and the file there is absent or a regular file. */
  private static Optional<String> ownFile(Path rootfs, String path) {
    int slash = path.lastIndexOf('/');
    Optional<Path> dir = RootfsPaths.resolve(rootfs, path.substring(0, slash)).filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
    return dir.flatMap(d -> current(d, path.substring(slash + 1))).map(old -> path);
  }
}
