package io.berth.isolation.template;

import io.berth.protocol.InvalidFieldException;
import java.util.List;
import java.util.Map;

/**
 * A distribution a template can be built from: its debootstrap suite and the packages every such template
 * holds. The base set is what a container needs to boot systemd as its init and be looked at from inside
 * ({@code systemctl}, {@code ip}, {@code ps}): design.md, "systemd inside".
 */
public record Distribution(String name, String suite, List<String> packages) {
  public static final Distribution DEBIAN_12 =
      new Distribution("debian-12", "bookworm", List.of("systemd", "systemd-sysv", "dbus", "iproute2", "procps"));

  private static final Map<String, Distribution> KNOWN = Map.of(DEBIAN_12.name(), DEBIAN_12);

  /** The distribution called {@code name}; anything else is an {@link InvalidFieldException} on {@code distribution}. */
  public static Distribution of(String name) {
    InvalidFieldException.required("distribution", name);
    Distribution d = KNOWN.get(name);
    if (d == null) throw new InvalidFieldException("distribution", "must be one of " + KNOWN.keySet(), name);
    return d;
  }
}
