package io.berth.protocol.directory;

import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Limits;

/** One container's share of a host, as the directory keeps it. */
public record Allocation(HostId host, Limits limits, String antiAffinityGroup, String address) {}
