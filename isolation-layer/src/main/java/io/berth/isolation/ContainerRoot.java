package io.berth.isolation;

import io.berth.isolation.idmap.IdRanges;
import io.berth.isolation.process.Helper;
import io.berth.isolation.rootfs.NsFiles;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.isolation.store.ContainerStore;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A container's user namespace and root filesystem, set up and taken down in order.
 *
 * <p>Unprivileged (the default): a user namespace of its own mapping 0..65535 to its host range
 * ({@link IdRanges}), kept at {@code userns}; the template and the writable layer idmapped through it
 * ({@code mapped/template}, {@code mapped/layer}), so both keep the ids they have on disk and root inside
 * is an unprivileged uid outside; the overlay over those. Privileged: the overlay straight over the
 * template and the layer, no user namespace. Either way the layer's {@code /dev} holds the device nodes.
 */
final class ContainerRoot {
  private final ContainerStore store;
  private final Helper helper;
  private final IdRanges ranges;
  private final Path dataRoot;

  ContainerRoot(ContainerStore store, Helper helper, IdRanges ranges, Path dataRoot) {
    this.store = store;
    this.helper = helper;
    this.ranges = ranges;
    this.dataRoot = dataRoot;
  }

  /**
   * Claims the container's id range (the one it holds on this kernel, else {@code preferredBase} if free,
   * else the lowest free) and makes its user namespace; returns the range's base. The container's
   * directory must exist (the registry counts it as the owner's).
   */
  long makeUserns(ContainerId id, long preferredBase, Reverter revert) {
    long base = ranges.claim(id, dataRoot, preferredBase);
    revert.add(() -> ranges.release(id, dataRoot));
    helper.createUserns(store.userns(id), base, IdRanges.SIZE, "container " + id);
    revert.add(() -> NsFiles.unbind(store.userns(id)));
    return base;
  }

  /** Mounts the overlay root at {@code rootfs}: over idmapped layers when {@code idBase} is non-zero. */
  void mount(ContainerId id, Path template, long idBase, Reverter revert) throws IOException {
    Files.createDirectories(store.upper(id));
    Files.createDirectories(store.work(id));
    Files.createDirectories(store.rootfs(id));
    helper.makeDevNodes(store.upper(id).resolve("dev"), "container " + id);
    if (idBase == 0) {
      Rootfs.mountOverlay(template, store.upper(id), store.work(id), store.rootfs(id));
      revert.add(() -> Rootfs.unmount(store.rootfs(id)));
      return;
    }
    Files.createDirectories(store.mappedTemplate(id));
    Files.createDirectories(store.mappedLayer(id));
    helper.idmapMount(template, store.mappedTemplate(id), store.userns(id), "container " + id);
    revert.add(() -> Rootfs.unmount(store.mappedTemplate(id)));
    helper.idmapMount(store.layer(id), store.mappedLayer(id), store.userns(id), "container " + id);
    revert.add(() -> Rootfs.unmount(store.mappedLayer(id)));
    Path mapped = store.mappedLayer(id);
    String options = "lowerdir=" + store.mappedTemplate(id) + ",upperdir=" + mapped.resolve("upper") + ",workdir=" + mapped.resolve("work")
        + "," + Rootfs.XINO;
    helper.mountOverlay(store.rootfs(id), options, idBase, "container " + id);
    revert.add(() -> Rootfs.unmount(store.rootfs(id)));
  }

  /** Unmounts the overlay and the idmapped layers (the directory and the range stay). Idempotent. */
  void unmount(ContainerId id) {
    Rootfs.unmount(store.rootfs(id));
    Rootfs.unmount(store.mappedLayer(id));
    Rootfs.unmount(store.mappedTemplate(id));
  }

  /** Unmounts the user namespace's file (the namespace ends with its last process). Idempotent. */
  void dropUserns(ContainerId id) {
    NsFiles.unbind(store.userns(id));
  }

  /** The container no longer lives here: its range is free for others once no data root holds it. */
  void releaseRange(ContainerId id) {
    ranges.release(id, dataRoot);
  }

  /**
   * After a CRIU restore the init runs in the user namespace CRIU made (with the same mapping): bind that
   * one at {@code userns}, so a later start or exec after a stop joins the namespace that owns the
   * restored net namespace.
   */
  void rebindUserns(ContainerId id, int initPid) throws IOException {
    NsFiles.unbind(store.userns(id));
    NsFiles.bind(initPid, "user", store.userns(id));
  }
}
