package io.berth.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.protocol.container.ContainerEvent.ContainerDefined;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The audit's details of a definition say whether the container is privileged (the log is where an auditor looks). */
class EventDetailsTest {
  private static Map<?, ?> spec(boolean privileged) {
    ContainerSpec s = new ContainerSpec(ContainerId.of("ops-1"), TemplateRef.of("busybox"), null, List.of(), null, null, null, null, privileged);
    Map<String, Object> d = EventDetails.of(new ContainerDefined(new EventMeta(Instant.EPOCH, "alice", "", "c", ""), s));
    return (Map<?, ?>) d.get("spec");
  }

  @Test
  void aDefinitionShowsWhetherTheContainerIsPrivileged() {
    assertEquals(true, spec(true).get("privileged"));
    assertEquals(false, spec(false).get("privileged"));
  }
}
