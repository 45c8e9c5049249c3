package io.berth.isolation.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scripts' shape (the kernel's view is NetworkFilterIT's): one container's script names only its own
 * chain and element, removal adds before it deletes (so it holds when nothing is there), input is checked
 * before any text reaches nft, and the MAC is a locally administered unicast one that depends on the id only.
 */
class NftablesTest {
  private static final String T = "berth_0123456789ab";

  @Test
  void aContainersScriptTouchesOnlyItsOwnChainAndElement() {
    String s = Nftables.guardScript(T, "br0", "bv111111111111", "02:11:22:33:44:55", "198.18.3.10");
    assertTrue(s.contains("add chain bridge " + T + " c_bv111111111111\nflush chain bridge " + T + " c_bv111111111111\n"), s);
    assertTrue(s.contains("add element bridge " + T + " ports { \"bv111111111111\" : jump c_bv111111111111 }"), s);
    assertTrue(s.contains("ether saddr != 02:11:22:33:44:55 drop"), s);
    assertTrue(s.contains("arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether 02:11:22:33:44:55 arp saddr ip 198.18.3.10 accept"), s);
    assertTrue(s.contains("ip saddr 198.18.3.10 accept"), s);
    assertTrue(s.endsWith("add element inet " + T + " bridges { \"br0\" }\n"), s);
    // Whatever is not this container's own ARP or IPv4 (IPv6 included) ends at the chain's last rule.
    assertTrue(s.contains("add rule bridge " + T + " c_bv111111111111 drop\n"), s);
    assertFalse(s.contains("ip6 saddr"), "no IPv6 is allowed: Berth assigns none");
    assertFalse(s.replace("c_bv111111111111", "").contains("c_bv"), "no other container's chain is named");
    assertFalse(s.contains("delete"), s);
  }

  @Test
  void removalAddsWhatItDeletesSoItHoldsWhenNothingIsThere() {
    String s = Nftables.unguardScript(T, "bv111111111111");
    assertTrue(s.indexOf("add chain bridge " + T + " c_bv111111111111") < s.indexOf("delete chain bridge " + T + " c_bv111111111111"), s);
    assertTrue(s.indexOf("add element") < s.indexOf("delete element"), s);
    assertTrue(s.indexOf("delete element") < s.indexOf("delete chain"), "the map's jump goes before its chain: " + s);
    assertFalse(s.contains("inet"), "removing a container leaves the host's protection alone: " + s);
    String t = Nftables.removeTablesScript(T);
    assertTrue(t.indexOf("add table bridge " + T) < t.indexOf("delete table bridge " + T), t);
    assertTrue(t.indexOf("add table inet " + T) < t.indexOf("delete table inet " + T), t);
  }

  @Test
  void theHostRefusesNewConnectionsFromBridgesAndForwardsNothingToTheControlPlane() {
    String s = Nftables.protectHostScript(T, "br0", List.of("198.19.251.0/24", "10.0.0.0/8"));
    int accept = s.indexOf("input iifname @bridges ct state established,related accept");
    int drop = s.indexOf("input iifname @bridges drop");
    assertTrue(accept > 0 && drop > accept, s);
    assertTrue(s.contains("forward iifname @bridges ip daddr @control_plane drop"), s);
    assertTrue(s.indexOf("flush set inet " + T + " control_plane") < s.indexOf("add element inet " + T + " control_plane { 198.19.251.0/24, 10.0.0.0/8 }"), s);
    assertFalse(Nftables.protectHostScript(T, "br0", List.of()).contains("add element inet " + T + " control_plane"));
    assertThrows(IllegalArgumentException.class, () -> Nftables.protectHostScript(T, "br0", List.of("10.0.0.0")));
    assertThrows(IllegalArgumentException.class, () -> Nftables.protectHostScript(T, "br0", List.of("10.0.0.0/24; flush ruleset")));
  }

  @Test
  void nothingButNamesAndAddressesReachesTheScript() {
    assertThrows(IllegalArgumentException.class, () -> Nftables.guardScript(T, "br0\"; flush ruleset", "bv1", "02:11:22:33:44:55", "198.18.3.10"));
    assertThrows(IllegalArgumentException.class, () -> Nftables.guardScript(T, "br0", "bv1 }", "02:11:22:33:44:55", "198.18.3.10"));
    assertThrows(IllegalArgumentException.class, () -> Nftables.guardScript(T, "br0", "bv1", "02:11:22:33:44", "198.18.3.10"));
    assertThrows(IllegalArgumentException.class, () -> Nftables.guardScript(T, "br0", "bv1", "02:11:22:33:44:55", "198.18.3.300"));
    assertThrows(IllegalArgumentException.class, () -> Nftables.unguardScript(T, "a-name-longer-than-15"));
  }

  @Test
  void tablesAreNamedPerDataRoot() {
    String a = Nftables.tableName(Path.of("/var/lib/berth/isolation"));
    assertEquals(a, Nftables.tableName(Path.of("/var/lib/berth/isolation")));
    assertNotEquals(a, Nftables.tableName(Path.of("/tmp/berth-it/abc/a")));
    assertTrue(a.matches("berth_[0-9a-f]{12}"), a);
  }

  @Test
  void theMacIsLocallyAdministeredUnicastAndDependsOnTheIdOnly() {
    String mac = Network.macAddress("web-1");
    assertTrue(mac.matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}"), mac);
    int first = Integer.parseInt(mac.substring(0, 2), 16);
    assertEquals(2, first & 0x02, "locally administered: " + mac);
    assertEquals(0, first & 0x01, "unicast: " + mac);
    assertEquals(mac, Network.macAddress("web-1"));
    assertNotEquals(mac, Network.macAddress("web-2"));
  }
}
