package io.berth.isolation;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.DnsLabel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the isolation layer needs to know about its host, validated before anything touches
 * the kernel.
 *
 * @param dataRoot       where containers, templates and the helper live; absolute, no ',' ':' or
 *                       whitespace (overlayfs options cannot carry them)
 * @param bridge         the default bridge containers join
 * @param criu           the CRIU binary
 * @param cgroupRoot     the cgroup under which every container's cgroup is made, e.g. {@code berth}
 * @param host           the most one container may get
 * @param helper         a berth-nsexec binary to use instead of the one in the jar; empty normally
 * @param templateSources names that import a directory on first use, e.g. busybox → the set-up's template
 * @param imagesRoot     where containers' disk images ({@code <id>.img}) live: {@code <dataRoot>/disks} by
 *                       default; may be shared storage (NFS, CephFS) so another host can adopt an image in place
 * @param defaultDiskBytes the size of a disk image when the container's limits name none (disk 0)
 * @param sharedImagesRoot where the disk images of containers on shared storage ({@code Storage.SHARED}) live: a
 *                       directory every host mounts (NFS, CephFS; for a cluster on one machine a plain directory
 *                       outside every data root), so a host taking over a dead host's container adopts its image in
 *                       place. Empty (the default): this host refuses shared containers
 * @param dns            the name servers and search domains written into each container's /etc/resolv.conf at its
 *                       start ({@link GuestDns}); {@link GuestDns#NONE} (the default) leaves that file alone
 */
public record IsolationConfig(
    Path dataRoot, String bridge, Path criu, String cgroupRoot, HostResources host, Optional<Path> helper,
    Map<String, Path> templateSources, Path imagesRoot, long defaultDiskBytes, Optional<Path> sharedImagesRoot,
    GuestDns dns) {

  /**
   * 10 GiB, the size Incus and LXD give a block-backed volume that names none (and Docker's devicemapper
   * base size): enough for a distribution's root with room to work, small enough that a host holds many.
   * The image is sparse, so the size costs nothing until it is written.
   */
  public static final long DEFAULT_DISK_BYTES = 10L << 30;

  public IsolationConfig {
    InvalidFieldException.required("dataRoot", dataRoot);
    if (!dataRoot.isAbsolute()) throw new InvalidFieldException("dataRoot", "must be an absolute path", dataRoot);
    if (dataRoot.toString().matches(".*[,:\\s].*")) {
      throw new InvalidFieldException("dataRoot", "must not contain ',', ':' or whitespace (overlayfs option syntax)", dataRoot);
    }
    if (bridge == null || !bridge.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new InvalidFieldException("bridge", "must be an interface name of 1-15 letters, digits, '_', '.', '-'", bridge);
    }
    InvalidFieldException.required("criu", criu);
    if (cgroupRoot == null || !DnsLabel.isValid(cgroupRoot)) throw new InvalidFieldException("cgroupRoot", DnsLabel.RULE, cgroupRoot);
    InvalidFieldException.required("host", host);
    helper = helper == null ? Optional.empty() : helper;
    templateSources = templateSources == null ? Map.of() : Map.copyOf(templateSources);
    imagesRoot = imagesRoot == null ? dataRoot.resolve("disks") : imagesRoot;
    if (!imagesRoot.isAbsolute()) throw new InvalidFieldException("imagesRoot", "must be an absolute path", imagesRoot);
    if (defaultDiskBytes < (16L << 20) || defaultDiskBytes > io.berth.protocol.spec.Limits.MAX_DISK) {
      throw new InvalidFieldException("defaultDiskBytes", "must be between 16M and 1024T", defaultDiskBytes);
    }
    sharedImagesRoot = sharedImagesRoot == null ? Optional.empty() : sharedImagesRoot;
    dns = dns == null ? GuestDns.NONE : dns;
    if (sharedImagesRoot.isPresent()) {
      Path shared = sharedImagesRoot.get();
      if (!shared.isAbsolute()) throw new InvalidFieldException("sharedImagesRoot", "must be an absolute path", shared);
      // Under the data root it would be this host's alone, and a data root's removal would take every host's images.
      if (shared.normalize().startsWith(dataRoot.normalize())) {
        throw new InvalidFieldException("sharedImagesRoot", "must lie outside the data root " + dataRoot + " (every host mounts it)", shared);
      }
    }
  }

  /** Without a shared images root: the configuration as it was before storage classes. */
  public IsolationConfig(Path dataRoot, String bridge, Path criu, String cgroupRoot, HostResources host, Optional<Path> helper,
      Map<String, Path> templateSources, Path imagesRoot, long defaultDiskBytes) {
    this(dataRoot, bridge, criu, cgroupRoot, host, helper, templateSources, imagesRoot, defaultDiskBytes, Optional.empty(), GuestDns.NONE);
  }

  /**
   * The defaults for this machine: CRIU at {@code <repo>/.local/bin/criu} (repo from BERTH_REPO or
   * found upward from the working directory), else {@code criu} on PATH; the set-up's templates (busybox,
   * debian-12 when bin/berth up built it) from {@code <repo>/.local/templates}; the host's cores and RAM.
   */
  /** The templates the host set-up builds under {@code .local/templates} (bin/setup-host, bin/berth up). */
  public static final java.util.List<String> SETUP_TEMPLATES = java.util.List.of("busybox", "debian-12");

  public static IsolationConfig defaults(Path dataRoot, String bridge, String cgroupRoot) {
    Optional<Path> repo = repo();
    Path criu = repo.map(r -> r.resolve(".local/bin/criu")).filter(Files::isExecutable).orElseGet(IsolationConfig::criuOnPath);
    Map<String, Path> sources = new java.util.TreeMap<>();
    for (String name : SETUP_TEMPLATES) {
      repo.map(r -> r.resolve(".local/templates").resolve(name)).filter(Files::isDirectory).ifPresent(p -> sources.put(name, p));
    }
    return new IsolationConfig(dataRoot, bridge, criu, cgroupRoot, HostResources.detect(), Optional.empty(), sources, null,
        DEFAULT_DISK_BYTES, Optional.empty(), GuestDns.NONE);
  }

  /** Another data root; an images root under the old one moves with it, one elsewhere (shared storage) stays. */
  public IsolationConfig withDataRoot(Path newRoot) {
    Path images = imagesRoot.startsWith(dataRoot) ? newRoot.resolve(dataRoot.relativize(imagesRoot)) : imagesRoot;
    return new IsolationConfig(newRoot, bridge, criu, cgroupRoot, host, helper, templateSources, images, defaultDiskBytes, sharedImagesRoot, dns);
  }

  public IsolationConfig withCgroupRoot(String newRoot) {
    return new IsolationConfig(dataRoot, bridge, criu, newRoot, host, helper, templateSources, imagesRoot, defaultDiskBytes, sharedImagesRoot, dns);
  }

  public IsolationConfig withImagesRoot(Path newRoot) {
    return new IsolationConfig(dataRoot, bridge, criu, cgroupRoot, host, helper, templateSources, newRoot, defaultDiskBytes, sharedImagesRoot, dns);
  }

  public IsolationConfig withDefaultDiskBytes(long bytes) {
    return new IsolationConfig(dataRoot, bridge, criu, cgroupRoot, host, helper, templateSources, imagesRoot, bytes, sharedImagesRoot, dns);
  }

  /** The shared images root this host mounts (see the record's comment); a data root moved later keeps it. */
  public IsolationConfig withSharedImagesRoot(Path root) {
    return new IsolationConfig(dataRoot, bridge, criu, cgroupRoot, host, helper, templateSources, imagesRoot, defaultDiskBytes,
        Optional.ofNullable(root), dns);
  }

  /** The name servers and search domains this host gives its containers (see the record's comment). */
  public IsolationConfig withDns(GuestDns newDns) {
    return new IsolationConfig(dataRoot, bridge, criu, cgroupRoot, host, helper, templateSources, imagesRoot, defaultDiskBytes,
        sharedImagesRoot, newDns);
  }

  /** BERTH_REPO, or the first directory upward from the working directory holding .local/bin/criu or bin/setup-host. */
  public static Optional<Path> repo() {
    String env = System.getenv("BERTH_REPO");
    if (env != null && !env.isBlank()) return Optional.of(Path.of(env).toAbsolutePath());
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("bin/setup-host")) || Files.exists(p.resolve(".local/bin/criu"))) return Optional.of(p);
    }
    return Optional.empty();
  }

  private static Path criuOnPath() {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      Path p = Path.of(dir, "criu");
      if (!dir.isEmpty() && Files.isExecutable(p)) return p;
    }
    return Path.of("criu");
  }
}
