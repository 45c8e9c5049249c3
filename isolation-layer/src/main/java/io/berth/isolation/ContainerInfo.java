package io.berth.isolation;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A container as the kernel shows it now: whether its init runs (pid alive with the recorded start
 * time), the limits its cgroup holds, its host-side veth. The recorded spec parts (hostname,
 * command, template) come from the container's directory.
 *
 * @param initPid     the init's pid in the host's pid namespace, 0 when not running
 * @param limits      as read from the cgroup files; null when the cgroup is gone
 * @param veth        the host end of its veth pair, empty without a network
 * @param mac         its eth0's MAC (the only one its frames may carry unless privileged), empty without a network
 */
public record ContainerInfo(
    ContainerId id,
    ContainerStatus status,
    int initPid,
    String hostname,
    List<String> command,
    String templateDigest,
    Limits limits,
    Optional<NetworkAttachment> network,
    Optional<String> veth,
    Path rootfs,
    String cgroup,
    Optional<String> mac) {}
