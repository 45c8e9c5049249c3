package io.berth.isolation.store;

import io.berth.isolation.NetworkAttachment;
import io.berth.isolation.network.Network;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The container directories under {@code <dataRoot>/containers/<id>}: {@code container.properties}
 * (the record, written to a temp file and renamed so a crash never leaves half of it),
 * {@code layer} (the mount point of the container's disk image, see {@code ContainerDisk}) holding
 * {@code upper} and {@code work} (the overlay's writable layer, ids as they are on disk),
 * {@code mapped/template} and {@code mapped/layer} (idmapped mounts of the template and the layer for an
 * unprivileged container), {@code rootfs} (the overlay's mount point), {@code userns} and {@code netns}
 * (the bind-mounted namespaces), {@code exit} (written by the shim).
 */
public final class ContainerStore {
  private final Path containers;

  public ContainerStore(Path dataRoot) {
    this.containers = dataRoot.resolve("containers");
  }

  public Path dir(ContainerId id) {
    return containers.resolve(id.value());
  }

  public Path rootfs(ContainerId id) {
    return dir(id).resolve("rootfs");
  }

  /**
   * The writable layer: where the container's disk image is mounted, holding upper and work (one
   * filesystem, so one idmapped mount carries both: overlayfs needs them on one mount).
   */
  public Path layer(ContainerId id) {
    return dir(id).resolve("layer");
  }

  public Path upper(ContainerId id) {
    return layer(id).resolve("upper");
  }

  public Path work(ContainerId id) {
    return layer(id).resolve("work");
  }

  /** The template, idmapped for the container's user namespace (the overlay's lower layer). */
  public Path mappedTemplate(ContainerId id) {
    return dir(id).resolve("mapped/template");
  }

  /** {@link #layer}, idmapped for the container's user namespace. */
  public Path mappedLayer(ContainerId id) {
    return dir(id).resolve("mapped/layer");
  }

  public Path userns(ContainerId id) {
    return dir(id).resolve("userns");
  }

  public Path netns(ContainerId id) {
    return dir(id).resolve("netns");
  }

  public Path exitFile(ContainerId id) {
    return dir(id).resolve("exit");
  }

  public Path shimLog(ContainerId id) {
    return dir(id).resolve("shim.log");
  }

  private Path file(ContainerId id) {
    return dir(id).resolve("container.properties");
  }

  public boolean exists(ContainerId id) {
    return Files.isRegularFile(file(id));
  }

  /** The ids of every container directory (with or without a record). */
  public List<ContainerId> ids() {
    if (!Files.isDirectory(containers)) return List.of();
    try (Stream<Path> s = Files.list(containers)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
          .filter(io.berth.protocol.ids.DnsLabel::isValid).sorted().map(ContainerId::of).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("list " + containers, e);
    }
  }

  public void save(ContainerRecord r) {
    Properties p = new Properties();
    p.setProperty("id", r.id().value());
    p.setProperty("hostname", r.hostname());
    p.setProperty("command.count", Integer.toString(r.command().size()));
    for (int i = 0; i < r.command().size(); i++) p.setProperty("command." + i, r.command().get(i));
    p.setProperty("template", r.templateDigest());
    p.setProperty("limits.cpuMillis", Long.toString(r.limits().cpuMillis()));
    p.setProperty("limits.memoryBytes", Long.toString(r.limits().memoryBytes()));
    p.setProperty("limits.diskBytes", Long.toString(r.limits().diskBytes()));
    p.setProperty("limits.pids", Long.toString(r.limits().pids()));
    p.setProperty("limits.cpuWeight", Integer.toString(r.limits().cpuWeight()));
    p.setProperty("limits.cpuGuaranteeMillis", Long.toString(r.limits().cpuGuaranteeMillis()));
    p.setProperty("limits.memoryGuaranteeBytes", Long.toString(r.limits().memoryGuaranteeBytes()));
    r.network().ifPresent(n -> {
      p.setProperty("network.address", n.address());
      p.setProperty("network.prefixLength", Integer.toString(n.prefixLength()));
      p.setProperty("network.gateway", n.gateway());
      p.setProperty("network.bridge", n.bridge());
    });
    r.veth().ifPresent(v -> p.setProperty("veth", v));
    r.mac().ifPresent(m -> p.setProperty("mac", m));
    p.setProperty("init.pid", Integer.toString(r.initPid()));
    p.setProperty("init.startTime", Long.toString(r.initStartTime()));
    p.setProperty("shim.pid", Integer.toString(r.shimPid()));
    p.setProperty("privileged", Boolean.toString(r.privileged()));
    p.setProperty("idmap.base", Long.toString(r.idBase()));
    r.diskImage().ifPresent(d -> p.setProperty("disk.image", d.toString()));
    Path target = file(r.id());
    try {
      Path tmp = Files.createTempFile(dir(r.id()), ".container", ".tmp");
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(w, "berth container " + r.id());
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("write " + target, e);
    }
  }

  public Optional<ContainerRecord> load(ContainerId id) {
    Path f = file(id);
    if (!Files.isRegularFile(f)) return Optional.empty();
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException("read " + f, e);
    }
    int n = Integer.parseInt(p.getProperty("command.count", "0"));
    List<String> command = new ArrayList<>();
    for (int i = 0; i < n; i++) command.add(p.getProperty("command." + i));
    // A record written before weights and guarantees: the default weight, and every cap reserved, as placed then.
    long cpu = Long.parseLong(p.getProperty("limits.cpuMillis"));
    long memory = Long.parseLong(p.getProperty("limits.memoryBytes"));
    Limits limits = new Limits(cpu, memory, Long.parseLong(p.getProperty("limits.diskBytes")), Long.parseLong(p.getProperty("limits.pids")),
        Integer.parseInt(p.getProperty("limits.cpuWeight", Integer.toString(Limits.DEFAULT_CPU_WEIGHT))),
        Long.parseLong(p.getProperty("limits.cpuGuaranteeMillis", Long.toString(cpu))),
        Long.parseLong(p.getProperty("limits.memoryGuaranteeBytes", Long.toString(memory))));
    Optional<NetworkAttachment> net = p.getProperty("network.address") == null ? Optional.empty()
        : Optional.of(new NetworkAttachment(p.getProperty("network.address"), Integer.parseInt(p.getProperty("network.prefixLength")),
            p.getProperty("network.gateway"), p.getProperty("network.bridge")));
    // A record written before the MAC was kept: the MAC is the one the id gives (a revive sets it on eth0).
    Optional<String> mac = Optional.ofNullable(p.getProperty("mac")).or(() -> net.map(a -> Network.macAddress(id.value())));
    return Optional.of(new ContainerRecord(id, p.getProperty("hostname"), List.copyOf(command), p.getProperty("template"), limits, net,
        Optional.ofNullable(p.getProperty("veth")), Integer.parseInt(p.getProperty("init.pid", "0")),
        Long.parseLong(p.getProperty("init.startTime", "0")), Integer.parseInt(p.getProperty("shim.pid", "0")),
        Boolean.parseBoolean(p.getProperty("privileged", "false")), Long.parseLong(p.getProperty("idmap.base", "0")), mac,
        Optional.ofNullable(p.getProperty("disk.image")).map(Path::of)));
  }
}
