package io.berth.node.boot;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import io.berth.node.directory.AddressPool;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.saga.SagaSettings;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.DnsLabel;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Labels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's own settings ({@code berth.*} in its config file), validated before anything starts: a bad
 * value names its key and the rule. See {@code reference.conf} for every key and its meaning.
 *
 * @param managementNetworks the control plane's networks ({@code berth.network.management}), empty when
 *                           not declared
 */
public record NodeSettings(
    HostId hostId,
    Path dataRoot,
    Map<String, String> labels,
    Optional<Long> cpuMillis,
    Optional<Long> memoryBytes,
    long pids,
    String clusterAddress,
    int clusterPort,
    List<String> seeds,
    String apiBind,
    int apiPort,
    String bridge,
    String bridgeAddress,
    int bridgePrefix,
    AddressPool containerAddresses,
    String cgroupRoot,
    PlacementPolicy placementPolicy,
    List<String> managementNetworks,
    SagaSettings sagas,
    io.berth.node.migration.MigrationSettings migration,
    io.berth.node.fence.FencingSettings fencing,
    Optional<Path> sharedRoot,
    io.berth.node.checkpoint.CheckpointSettings checkpoints,
    io.berth.protocol.host.Overcommit overcommit,
    io.berth.node.exec.ExecSettings exec,
    io.berth.isolation.GuestDns dns,
    Optional<ClusterTls> clusterTls,
    ApiSecurity apiSecurity) {

  public static NodeSettings fromConfig(Config root) {
    Config c = root.getConfig("berth");
    HostId host = parse("berth.host-id", () -> HostId.of(c.getString("host-id")), c.getString("host-id"));
    Path dataRoot = Path.of(c.getString("data-root")).toAbsolutePath();
    Map<String, String> labels = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : c.getConfig("labels").entrySet()) {
      labels.put(e.getKey().replace("\"", ""), String.valueOf(e.getValue().unwrapped()));
    }
    labels = Labels.check("berth.labels", labels);
    Optional<Long> cpu = auto(c, "capacity.cpu").map(v -> CpuAmounts.parseMillis("berth.capacity.cpu", v));
    Optional<Long> memory = auto(c, "capacity.memory").map(v -> ByteSizes.parse("berth.capacity.memory", v));
    long pids = c.getLong("capacity.pids");
    if (pids < 1) throw new InvalidFieldException("berth.capacity.pids", "must be at least 1", pids);
    String clusterAddress = c.getString("cluster.address");
    int clusterPort = port("berth.cluster.port", c.getInt("cluster.port"));
    List<String> seeds = new ArrayList<>(c.getStringList("cluster.seeds"));
    for (String s : seeds) {
      if (!s.matches("[A-Za-z0-9.:-]+:\\d{1,5}")) throw new InvalidFieldException("berth.cluster.seeds", "each must be ADDRESS:PORT", s);
    }
    String apiBind = c.getString("api.bind");
    int apiPort = c.getInt("api.port");
    if (apiPort < 0 || apiPort > 65535) throw new InvalidFieldException("berth.api.port", "must be a port between 1 and 65535, or 0 for any free one", apiPort);
    String bridge = c.getString("network.bridge");
    if (!bridge.matches("[A-Za-z0-9_.-]{1,15}")) throw new InvalidFieldException("berth.network.bridge", "must be an interface name of 1-15 characters", bridge);
    String bridgeCidr = c.getString("network.bridge-address");
    String[] cidr = bridgeCidr.split("/");
    if (cidr.length != 2 || !cidr[1].matches("\\d{1,2}")) {
      throw new InvalidFieldException("berth.network.bridge-address", "must be ADDRESS/PREFIX, e.g. 198.18.0.11/16", bridgeCidr);
    }
    AddressPool pool = AddressPool.parse("berth.network.containers", c.getString("network.containers"), Integer.parseInt(cidr[1]));
    String cgroupRoot = c.getString("isolation.cgroup-root");
    if (!DnsLabel.isValid(cgroupRoot)) throw new InvalidFieldException("berth.isolation.cgroup-root", DnsLabel.RULE, cgroupRoot);
    PlacementPolicy policy = PlacementPolicy.parse("berth.placement.policy", c.getString("placement.policy"));
    List<String> management = c.getStringList("network.management");
    if (!management.isEmpty()) {
      List<ManagementNetworks.Net> nets = ManagementNetworks.parse(management,
          ManagementNetworks.containersNetwork(cidr[0], Integer.parseInt(cidr[1])));
      ManagementNetworks.requireInside(nets, "berth.cluster.address", clusterAddress, false);
      for (String seed : seeds) ManagementNetworks.requireInside(nets, "berth.cluster.seeds", seed, true);
      ManagementNetworks.requireInside(nets, "berth.api.bind", apiBind, false);
      if (c.hasPath("persistence.contact-points")) {
        for (String cp : c.getStringList("persistence.contact-points")) ManagementNetworks.requireInside(nets, "berth.persistence.contact-points", cp, true);
      }
      management = nets.stream().map(ManagementNetworks.Net::text).toList();
    }
    SagaSettings sagas = new SagaSettings(duration(c, "sagas.step-timeout"), duration(c, "sagas.patience"));
    long bandwidth = c.getString("migration.bandwidth").equals("0") ? 0 : ByteSizes.parse("berth.migration.bandwidth", c.getString("migration.bandwidth"));
    var migration = new io.berth.node.migration.MigrationSettings(duration(c, "migration.step-timeout"), duration(c, "migration.restore-timeout"),
        duration(c, "migration.hold-bound"), bandwidth, Path.of(c.getString("migration.work-dir")),
        ByteSizes.parse("berth.migration.post-copy-from", c.getString("migration.post-copy-from")));
    var fencing = new io.berth.node.fence.FencingSettings(duration(c, "fencing.ha-deadline"), duration(c, "fencing.local-deadline"),
        duration(c, "fencing.feed-every"), duration(c, "fencing.margin"));
    String shared = c.getString("storage.shared-root");
    Optional<Path> sharedRoot = shared.isEmpty() ? Optional.empty() : Optional.of(Path.of(shared).toAbsolutePath());
    if (sharedRoot.isPresent() && sharedRoot.get().startsWith(dataRoot)) {
      throw new InvalidFieldException("berth.storage.shared-root", "must be outside the data root " + dataRoot + " (every host mounts it)", shared);
    }
    var checkpoints = new io.berth.node.checkpoint.CheckpointSettings(duration(c, "checkpoints.tick"), c.getInt("checkpoints.parallel"));
    io.berth.protocol.host.Overcommit overcommit;
    try {
      overcommit = new io.berth.protocol.host.Overcommit(
          io.berth.protocol.host.Overcommit.parse("berth.overcommit.cpu", c.getString("overcommit.cpu")),
          io.berth.protocol.host.Overcommit.parse("berth.overcommit.memory", c.getString("overcommit.memory")));
    } catch (InvalidFieldException e) {
      throw e.field().startsWith("berth.") ? e : new InvalidFieldException("berth." + e.field(), e.rule(), c.getString(e.field()));
    }
    return new NodeSettings(host, dataRoot, labels, cpu, memory, pids, clusterAddress, clusterPort, seeds, apiBind, apiPort,
        bridge, cidr[0], Integer.parseInt(cidr[1]), pool, cgroupRoot, policy, List.copyOf(management), sagas, migration, fencing, sharedRoot,
        checkpoints, overcommit, new io.berth.node.exec.ExecSettings(c.getInt("exec.threads"), c.getInt("exec.queue")), dns(c),
        ClusterTls.fromConfig(c), ApiSecurity.fromConfig(c));
  }

  /** berth.isolation.nameservers: "inherit" (this host's resolv.conf) or a list; search-domains go with a list. */
  private static io.berth.isolation.GuestDns dns(Config c) {
    ConfigValue servers = c.getValue("isolation.nameservers");
    List<String> search = c.getStringList("isolation.search-domains");
    try {
      if (servers.valueType() == com.typesafe.config.ConfigValueType.STRING && "inherit".equals(servers.unwrapped())) {
        if (!search.isEmpty()) {
          throw new InvalidFieldException("berth.isolation.search-domains", "must be empty when nameservers is \"inherit\" (the host's search line is taken)", search);
        }
        return io.berth.isolation.GuestDns.inherit(Path.of("/etc/resolv.conf"));
      }
      if (servers.valueType() != com.typesafe.config.ConfigValueType.LIST) {
        throw new InvalidFieldException("berth.isolation.nameservers", "must be \"inherit\" or a list of IPv4 or IPv6 addresses", servers.unwrapped());
      }
      return new io.berth.isolation.GuestDns(c.getStringList("isolation.nameservers"), search);
    } catch (InvalidFieldException e) {
      if (e.field().startsWith("berth.")) throw e;
      if (e.field().equals("search")) throw new InvalidFieldException("berth.isolation.search-domains", e.rule(), search);
      throw e.under("berth.isolation");
    }
  }

  private static java.time.Duration duration(Config c, String key) {
    try {
      return c.getDuration(key);
    } catch (ConfigException e) {
      throw new InvalidFieldException("berth." + key, "must be a duration such as 10s or 500ms", c.getValue(key).unwrapped());
    }
  }

  private static Optional<String> auto(Config c, String key) {
    String v = c.getString(key);
    return v.equals("auto") ? Optional.empty() : Optional.of(v);
  }

  private static int port(String key, int value) {
    if (value < 1 || value > 65535) throw new InvalidFieldException(key, "must be a port between 1 and 65535", value);
    return value;
  }

  private static <T> T parse(String key, java.util.function.Supplier<T> make, String raw) {
    try {
      return make.get();
    } catch (InvalidFieldException e) {
      throw new InvalidFieldException(key, e.rule(), raw);
    } catch (ConfigException e) {
      throw new InvalidFieldException(key, "must be given", raw);
    }
  }
}
