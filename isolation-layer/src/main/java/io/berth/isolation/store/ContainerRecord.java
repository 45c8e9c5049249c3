package io.berth.isolation.store;

import io.berth.isolation.NetworkAttachment;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the layer keeps on disk about a container so a restarted owner can take it back: the parts
 * of its spec the kernel does not hold, and the init it last started (pid, the kernel's start
 * time of that pid to rule out reuse, and the shim that waits for it).
 *
 * @param initStartTime field 22 of /proc/PID/stat (clock ticks since boot), 0 when never started
 * @param privileged    no user namespace and no confinement layer (the spec asked for it by name)
 * @param idBase        the first host uid/gid of the container's 65,536 ids; 0 when privileged
 * @param mac           eth0's MAC (derived from the id, the same on every host), empty without a network
 * @param diskImage     the image file holding its writable layer (an ext4 loop-mounted at {@code layer}); empty
 *                      for a container prepared before disk images, whose layer is a plain directory
 */
public record ContainerRecord(
    ContainerId id,
    String hostname,
    List<String> command,
    String templateDigest,
    Limits limits,
    Optional<NetworkAttachment> network,
    Optional<String> veth,
    int initPid,
    long initStartTime,
    int shimPid,
    boolean privileged,
    long idBase,
    Optional<String> mac,
    Optional<Path> diskImage) {

  public ContainerRecord withInit(int pid, long startTime, int shim) {
    return new ContainerRecord(id, hostname, command, templateDigest, limits, network, veth, pid, startTime, shim, privileged, idBase, mac,
        diskImage);
  }

  public ContainerRecord withLimits(Limits newLimits) {
    return new ContainerRecord(id, hostname, command, templateDigest, newLimits, network, veth, initPid, initStartTime, shimPid,
        privileged, idBase, mac, diskImage);
  }

  public ContainerRecord withIdBase(long base) {
    return new ContainerRecord(id, hostname, command, templateDigest, limits, network, veth, initPid, initStartTime, shimPid,
        privileged, base, mac, diskImage);
  }

  /** True when the container runs in a user namespace of its own (everything but a privileged one). */
  public boolean userNamespaced() {
    return !privileged;
  }
}
