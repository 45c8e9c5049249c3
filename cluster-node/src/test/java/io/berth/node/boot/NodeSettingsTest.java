package io.berth.node.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.protocol.InvalidFieldException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code berth.network.management}: parsed, and every control-plane address checked against it, before anything starts. */
class NodeSettingsTest {
  /** The local cluster's node-1 (see bin/berth-local-cluster), with {@code extra} over it. */
  private static NodeSettings settings(String extra) {
    String conf = "berth { host-id = \"node-1\", data-root = \"/tmp/berth-settings-test\"\n"
        + "  cluster { address = \"198.19.251.11\", port = 2552, seeds = [\"198.19.251.11:2552\", \"198.19.251.12:2552\"] }\n"
        + "  api { bind = \"198.19.251.11\", port = 7480 }\n"
        + "  network { bridge = \"berth0\", bridge-address = \"198.18.0.11/16\", containers = \"198.18.1.1-198.18.200.254\" }\n"
        + "  persistence.contact-points = [\"198.19.251.1:19042\"]\n"
        + "}\n" + extra + "\n";
    return NodeSettings.fromConfig(ConfigFactory.parseString(conf).resolve().withFallback(ConfigFactory.defaultReference()));
  }

  private static InvalidFieldException refused(String extra) {
    return assertThrows(InvalidFieldException.class, () -> settings(extra));
  }

  @Test
  void managementNetworksAreReadAndEmptyByDefault() {
    assertEquals(List.of(), settings("").managementNetworks(), "not declared: nothing is checked");
    assertEquals(List.of("198.19.251.0/24"), settings("berth.network.management = [\"198.19.251.0/24\"]").managementNetworks());
    assertEquals(List.of("198.19.251.0/24", "10.0.0.0/8"),
        settings("berth.network.management = [\"198.19.251.0/24\", \"10.0.0.0/8\"]").managementNetworks());
  }

  @Test
  void nameServersAreInheritedFromTheHostByDefaultOrListedOrNone() {
    assertEquals(io.berth.isolation.GuestDns.inherit(java.nio.file.Path.of("/etc/resolv.conf")), settings("").dns(), "inherit by default");
    io.berth.isolation.GuestDns listed = settings("berth.isolation { nameservers = [\"198.18.0.53\"], search-domains = [\"berth.test\"] }").dns();
    assertEquals(List.of("198.18.0.53"), listed.nameservers());
    assertEquals(List.of("berth.test"), listed.search());
    assertTrue(settings("berth.isolation.nameservers = []").dns().none(), "[]: none written");
    assertEquals("berth.isolation.nameservers", refused("berth.isolation.nameservers = [\"ns1.example\"]").field());
    assertEquals("berth.api.tls.key-file", refused("berth.api.tls.cert-file = \"/etc/berth/a.pem\"").field(), "a certificate without its key");
    assertEquals("berth.api.tls.cert-file", refused("berth.api.tls.key-file = \"/etc/berth/a.key\"").field(), "a key without its certificate");
    assertEquals("berth.api.tokens-file", refused("berth.api.tokens-file = \"tokens\"").field(), "a relative tokens file");
    assertEquals("berth.isolation.nameservers", refused("berth.isolation.nameservers = \"8.8.8.8\"").field(), "a string other than inherit");
    assertEquals("berth.isolation.search-domains", refused("berth.isolation { nameservers = [\"198.18.0.53\"], search-domains = [\"a_b\"] }").field());
    assertEquals("berth.isolation.search-domains", refused("berth.isolation.search-domains = [\"berth.test\"]").field(), "with inherit");
  }

  @Test
  void theRealServersExampleDeclaresItsManagementNetworkAndPassesTheChecks() {
    java.io.File example = new java.io.File("../config/node.conf.example");
    assertTrue(example.isFile(), "run from the module directory: " + example.getAbsolutePath());
    NodeSettings s = NodeSettings.fromConfig(ConfigFactory.parseFile(example).resolve().withFallback(ConfigFactory.defaultReference()));
    assertEquals(List.of("10.0.0.0/24"), s.managementNetworks());
    assertEquals("10.0.0.17", s.apiBind());
    assertEquals(java.util.Optional.of(java.nio.file.Path.of("/etc/berth/tls/host-17.key")), s.clusterTls().map(ClusterTls::keyFile),
        "its cluster port's credentials");
    assertEquals(java.util.Optional.of(java.nio.file.Path.of("/etc/berth/api-tokens")), s.apiSecurity().tokensFile(), "the API's tokens");
    assertEquals(java.util.Optional.of(java.nio.file.Path.of("/etc/berth/tls/host-17.pem")),
        s.apiSecurity().tls().map(io.berth.node.api.PemIdentity::certFile), "the API's certificate");
    io.berth.persistence.PersistenceSettings p = io.berth.persistence.PersistenceSettings.fromConfig(
        ConfigFactory.parseFile(example).resolve().withFallback(ConfigFactory.defaultReference()));
    assertEquals(java.util.Optional.of("berth"), p.login().map(io.berth.persistence.CqlLogin::username), "Cassandra's credentials");
    assertEquals(java.util.Optional.of(java.nio.file.Path.of("/etc/berth/tls/ca.pem")), p.tls().map(io.berth.persistence.CqlTls::caFile));
  }

  @Test
  void aManagementNetworkMustBeANetworkApartFromTheContainers() {
    InvalidFieldException syntax = refused("berth.network.management = [\"198.19.251.0\"]");
    assertEquals("berth.network.management", syntax.field());
    assertTrue(syntax.getMessage().contains("a.b.c.d/n"), syntax.getMessage());
    InvalidFieldException hostBits = refused("berth.network.management = [\"198.19.251.11/24\"]");
    assertTrue(hostBits.getMessage().contains("198.19.251.0/24"), "names the network meant: " + hostBits.getMessage());
    InvalidFieldException overlap = refused("berth.network.management = [\"198.18.7.0/24\"]");
    assertEquals("berth.network.management", overlap.field());
    assertTrue(overlap.getMessage().contains("198.18.0.0/16"), overlap.getMessage());
    assertEquals("berth.network.management", refused("berth.network.management = [\"198.0.0.0/8\"]").field(), "a wider one overlaps too");
    assertEquals("berth.network.management",
        refused("berth.network.management = [\"198.19.251.0/24\", \"198.19.0.0/16\"]").field(), "two that overlap each other");
  }

  @Test
  void everyControlPlaneAddressMustLieInAManagementNetwork() {
    String mgmt = "berth.network.management = [\"198.19.251.0/24\"]\n";
    assertEquals("berth.api.bind", refused(mgmt + "berth.api.bind = \"198.18.0.11\"").field(), "the API on the containers' bridge");
    InvalidFieldException wildcard = refused(mgmt + "berth.api.bind = \"0.0.0.0\"");
    assertEquals("berth.api.bind", wildcard.field());
    assertTrue(wildcard.getMessage().contains("0.0.0.0"), wildcard.getMessage());
    assertEquals("berth.cluster.address", refused(mgmt + "berth.cluster.address = \"198.18.0.11\"").field());
    assertEquals("berth.cluster.seeds", refused(mgmt + "berth.cluster.seeds = [\"198.18.0.12:2552\"]").field());
    assertEquals("berth.persistence.contact-points", refused(mgmt + "berth.persistence.contact-points = [\"198.18.0.1:19042\"]").field());
    // A name is the resolver's: not checked here.
    assertEquals(List.of("198.19.251.0/24"),
        settings(mgmt + "berth.persistence.contact-points = [\"cassandra.example:9042\"]").managementNetworks());
    // Without management networks the same addresses are accepted, as before.
    assertEquals("198.18.0.11", settings("berth.api.bind = \"198.18.0.11\"").apiBind());
  }
}
