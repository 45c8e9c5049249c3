package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.InvalidFieldException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files Berth keeps in a container's /etc, composed from what the container holds (GuestFiles, GuestDns). */
class GuestFilesTest {
  private static final GuestDns DNS = new GuestDns(List.of("198.18.0.53", "2001:db8::53"), List.of("berth.test"));
  private static final NetworkAttachment NET = new NetworkAttachment("198.18.1.7", 16, "198.18.0.11", "berth0");

  @Test
  void hostsGainsTheContainersLineOnceAndKeepsItsOwnLines() {
    String fresh = GuestFiles.hosts(Optional.empty(), "web", Optional.of("198.18.1.7"));
    assertTrue(fresh.startsWith("127.0.0.1\tlocalhost\n::1\tlocalhost"), fresh);
    assertTrue(fresh.endsWith("198.18.1.7\tweb\t# berth\n"), fresh);

    String edited = fresh + "10.1.2.3\tdb\n";
    String again = GuestFiles.hosts(Optional.of(edited), "web", Optional.of("198.18.1.9"));
    assertTrue(again.contains("10.1.2.3\tdb\n"), "the container's own line stays: " + again);
    assertFalse(again.contains("198.18.1.7"), "the old address is gone: " + again);
    assertEquals(1, again.lines().filter(l -> l.endsWith("# berth")).count(), again);
    assertEquals(again, GuestFiles.hosts(Optional.of(again), "web", Optional.of("198.18.1.9")), "a restart changes nothing more");
    assertTrue(GuestFiles.hosts(Optional.empty(), "solo", Optional.empty()).contains("127.0.1.1\tsolo\t# berth\n"), "no address: Debian's 127.0.1.1");
  }

  @Test
  void resolvConfReplacesTheServersAndSearchAndKeepsTheOptions() {
    String mine = "# my resolver\noptions ndots:2 timeout:1\nnameserver 10.9.9.9\nsearch old.example\n";
    String out = GuestFiles.resolvConf(Optional.of(mine), DNS);
    assertEquals("# my resolver\noptions ndots:2 timeout:1\nsearch berth.test # berth\nnameserver 198.18.0.53 # berth\nnameserver 2001:db8::53 # berth\n", out);
    assertEquals(out, GuestFiles.resolvConf(Optional.of(out), DNS), "idempotent");
  }

  @Test
  void networkdAndIfupdownSayWhatBerthConfigured() {
    String unit = GuestFiles.networkd(NET, DNS);
    for (String line : List.of("Name=eth0", "Address=198.18.1.7/16", "Gateway=198.18.0.11", "DNS=198.18.0.53", "DNS=2001:db8::53", "Domains=berth.test",
        "DHCP=no", "KeepConfiguration=static")) {
      assertTrue(unit.lines().anyMatch(line::equals), line + " in\n" + unit);
    }
    String stanza = GuestFiles.ifupdown(NET);
    assertTrue(stanza.contains("auto eth0\niface eth0 inet manual\n"), stanza);
  }

  @Test
  void recordsFollowNoLinkOutOfTheRootAndLeaveALinkedFileAlone(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("etc/systemd/network"));
    Files.writeString(root.resolve("etc/hosts"), "127.0.0.1 localhost\n");
    // A resolv.conf that is a link (systemd-resolved's stub, or a hostile one to the host's file): the container's choice.
    Files.createSymbolicLink(root.resolve("etc/resolv.conf"), Path.of("/etc/shadow"));
    List<String> records = GuestFiles.records(root, "web", Optional.of(NET), DNS);
    List<String> paths = records.stream().map(r -> r.substring(0, r.indexOf('\n'))).toList();
    assertEquals(List.of("/etc/hostname", "/etc/hosts", GuestFiles.NETWORKD_UNIT), paths, "no resolv.conf, no ifupdown (no /etc/network)");
    assertEquals("/etc/hostname\nweb\n", records.get(0));
    assertEquals("/etc/hosts\n127.0.0.1 localhost\n198.18.1.7\tweb\t# berth\n", records.get(1));

    // /etc itself a link to the host's /etc: resolved inside the root, where it names nothing.
    Path other = Files.createDirectories(root.resolve("other"));
    Files.createSymbolicLink(other.resolve("etc"), Path.of("/etc"));
    assertEquals(List.of(), GuestFiles.records(other, "web", Optional.of(NET), DNS));
    // A unit masked by a link to /dev/null is left alone.
    Files.createSymbolicLink(root.resolve("etc/systemd/network/10-berth-eth0.network"), Path.of("/dev/null"));
    assertFalse(GuestFiles.records(root, "web", Optional.of(NET), DNS).stream().anyMatch(r -> r.startsWith(GuestFiles.NETWORKD_UNIT)));
    assertEquals(List.of("/etc/hostname", "/etc/hosts"),
        GuestFiles.records(root, "web", Optional.empty(), GuestDns.NONE).stream().map(r -> r.substring(0, r.indexOf('\n'))).toList(), "no network, no DNS");
  }

  @Test
  void theCheckpointableDropInIsWrittenWhereMissingAndASymlinkOptsOut(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("etc/systemd/system"));
    List<String> records = GuestFiles.systemdRecords(root);
    assertEquals(1, records.size(), "the drop-in's directory is made by the init: " + records);
    assertTrue(records.get(0).startsWith(GuestFiles.CHECKPOINTABLE_DROP_IN + "\n") && records.get(0).contains("ProtectHostname=no"), records.get(0));
    Files.createDirectories(root.resolve("etc/systemd/system/service.d"));
    Files.createSymbolicLink(root.resolve(GuestFiles.CHECKPOINTABLE_DROP_IN.substring(1)), Path.of("/dev/null"));
    assertEquals(List.of(), GuestFiles.systemdRecords(root), "masked by the operator: left alone");
  }

  @Test
  void dnsSettingsAreValidatedAndInheritedWithoutTheHostsLoopback(@TempDir Path dir) throws Exception {
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> new GuestDns(List.of("dns.example"), List.of()));
    assertEquals("nameservers", e.field());
    assertEquals("nameservers", assertThrows(InvalidFieldException.class,
        () -> new GuestDns(List.of("198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"), List.of())).field());
    assertEquals("search", assertThrows(InvalidFieldException.class, () -> new GuestDns(List.of("198.18.0.1"), List.of("bad_domain"))).field());

    Path conf = dir.resolve("resolv.conf");
    Files.writeString(conf, "nameserver 127.0.0.53\nnameserver 198.18.0.53\n# comment\nsearch a.example b.example\nnameserver ::1\nnameserver 198.18.0.54\n");
    assertEquals(new GuestDns(List.of("198.18.0.53", "198.18.0.54"), List.of("a.example", "b.example")), GuestDns.inherit(conf));
    Files.writeString(conf, "nameserver 127.0.0.53\n");
    assertTrue(GuestDns.inherit(conf).none(), "only a loopback resolver: nothing a container could reach");
    assertTrue(GuestDns.inherit(dir.resolve("missing")).none());
  }
}
