package io.berth.bench.serialization;

import io.berth.protocol.container.ContainerEvent.ContainerDefined;
import io.berth.protocol.container.ContainerEvent.ContainerStarted;
import io.berth.protocol.container.ContainerEvent.ImageTransferred;
import io.berth.protocol.container.ContainerEvent.LimitsChanged;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The benchmark's events: what a container's log mostly holds, with realistic field sizes. */
final class BenchEvents {
  private BenchEvents() {}

  static final String HASH = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

  static EventMeta meta() {
    return new EventMeta(Instant.parse("2025-03-01T12:00:00.123Z"), "alice@ops", "roll out shop v2.3",
        "0b6f3a4e-5c2d-4f8e-9a1b-7c3d2e1f0a9b", HASH);
  }

  /** ContainerDefined with a full spec: command line, limits, labels, placement constraints. */
  static ContainerDefined defined() {
    ContainerSpec spec = new ContainerSpec(ContainerId.of("shop-web-17"), TemplateRef.of("busybox"), "shop-web-17",
        List.of("/bin/httpd", "-f", "-p", "8080", "-h", "/www"), new Limits(1500, 512L << 20, 2L << 30, 256),
        RestartPolicy.ON_FAILURE, Map.of("app", "shop", "tier", "frontend", "team", "web"),
        new PlacementConstraints(Optional.empty(), Map.of("zone", "z1"), "shop-web"));
    return new ContainerDefined(meta(), spec);
  }

  static ContainerStarted started() {
    return new ContainerStarted(meta(), HostId.of("host-07"), 48213);
  }

  static LimitsChanged limitsChanged() {
    return new LimitsChanged(meta(), new Limits(2000, 1L << 30, 4L << 30, 1024));
  }

  /** A migration saga step. */
  static ImageTransferred migrationStep() {
    return new ImageTransferred(meta(), "mig-2f9c1e", 29_360_128L, HASH);
  }

  /** By the names used as the benchmark's parameter. */
  static List<BerthEvent> named(String name) {
    return switch (name) {
      case "ContainerDefined" -> List.of(defined());
      case "ContainerStarted" -> List.of(started());
      case "LimitsChanged" -> List.of(limitsChanged());
      case "ImageTransferred" -> List.of(migrationStep());
      case "mix" -> List.of(defined(), started(), limitsChanged(), migrationStep());
      default -> throw new IllegalArgumentException("no benchmark event named " + name);
    };
  }

  static final List<String> NAMES = List.of("ContainerDefined", "ContainerStarted", "LimitsChanged", "ImageTransferred", "mix");
}
