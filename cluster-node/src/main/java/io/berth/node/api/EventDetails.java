package io.berth.node.api;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An event's own fields for audit output ({@code details}), without its meta (that is in the entry). Walks the
 * event record's components, so a new event type shows up without an edit here; the value types get the same
 * human forms as the rest of the API (limits as {@code "64M"}, ids as strings, enums in wire spelling).
 */
final class EventDetails {
  private EventDetails() {}

  static Map<String, Object> of(BerthEvent event) {
    if (event == null) return Map.of();
    Map<String, Object> out = new LinkedHashMap<>();
    if (!event.getClass().isRecord()) return out;
    for (RecordComponent c : event.getClass().getRecordComponents()) {
      if (c.getName().equals("meta")) continue;
      out.put(c.getName(), value(read(c, event)));
    }
    return out;
  }

  private static Object value(Object v) {
    if (v == null) return null;
    if (v instanceof String || v instanceof Number || v instanceof Boolean || v instanceof Instant) return v;
    if (v instanceof ContainerId || v instanceof HostId || v instanceof TemplateRef) return v.toString();
    if (v instanceof RestartPolicy p) return p.wireName();
    if (v instanceof Enum<?> e) return Views.lower(e);
    if (v instanceof Limits l) return Views.LimitsJson.of(l);
    if (v instanceof HostCapacity h) return Views.ResourcesJson.of(h.cpuMillis(), h.memoryBytes(), h.pids());
    if (v instanceof io.berth.protocol.host.Overcommit o) return Views.OvercommitJson.of(o);
    if (v instanceof ContainerSpec s) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", s.id().value());
      m.put("template", s.template().value());
      m.put("hostname", s.hostname());
      m.put("command", s.command());
      m.put("limits", Views.LimitsJson.of(s.limits()));
      m.put("restart", s.restart().wireName());
      m.put("labels", s.labels());
      m.put("placement", Views.PlacementJson.of(s.placement()));
      m.put("privileged", s.privileged());
      m.put("storage", s.storage().wireName());
      m.put("haPriority", s.haPriority());
      m.put("checkpointEvery", io.berth.protocol.spec.Durations.format(s.checkpointEvery()));
      return m;
    }
    if (v instanceof java.time.Duration d) return io.berth.protocol.spec.Durations.format(d);
    if (v instanceof Optional<?> o) return o.map(EventDetails::value).orElse(null);
    if (v instanceof Map<?, ?> map) {
      Map<String, Object> m = new LinkedHashMap<>();
      map.forEach((k, x) -> m.put(String.valueOf(k), value(x)));
      return m;
    }
    if (v instanceof Collection<?> list) {
      var out = new ArrayList<Object>();
      for (Object x : list) out.add(value(x));
      return out;
    }
    if (v.getClass().isRecord()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (RecordComponent c : v.getClass().getRecordComponents()) m.put(c.getName(), value(read(c, v)));
      return m;
    }
    return v.toString();
  }

  private static Object read(RecordComponent c, Object record) {
    try {
      return c.getAccessor().invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("read " + c.getName() + " of " + record.getClass().getSimpleName(), e);
    }
  }
}
