package io.berth.isolation.idmap;

import io.berth.isolation.IsolationException;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The host uid/gid ranges of unprivileged containers: 65,536 ids each, never shared by two containers on
 * one kernel (Incus's isolated idmaps). The registry is machine-wide, not per data root: several Berth
 * hosts may share one kernel (the local cluster, tests), and ids are the kernel's.
 *
 * <p>Ranges lie in systemd's container range (524288-1879048191, systemd's UIDS-GIDS.md), so they meet no
 * system or login user. A range belongs to a container id; each data root that holds the container is an
 * owner of it (a container moving between two hosts of one kernel keeps its range, which its CRIU images
 * name), and the range is free again when no owner holds the container any longer. An owner whose
 * container directory is gone (a crash between the two) no longer counts.
 *
 * <p>Files: {@code <registry>/<slot>}, lines: the container id, then one owner data root per line;
 * changed only under an exclusive lock of {@code <registry>/.lock} (flock, across processes) and this
 * class's monitor (within one JVM, where a second FileLock would throw).
 */
public final class IdRanges {
  public static final long SIZE = 65_536;
  public static final long FIRST = 524_288;
  public static final long LAST = 1_879_048_191;
  public static final int SLOTS = (int) ((LAST + 1 - FIRST) / SIZE);
  private static final Object MONITOR = new Object();

  private final Path registry;

  public IdRanges(Path registry) {
    this.registry = registry;
  }

  /** The registry every Berth host on this kernel shares; under /run, so a reboot (which ends every container) clears it. */
  public static IdRanges machine() {
    return new IdRanges(Path.of(System.getenv().getOrDefault("BERTH_IDMAP_REGISTRY", "/run/berth/idmap")));
  }

  /** The first host id of a slot. */
  public static long base(int slot) {
    return FIRST + slot * SIZE;
  }

  /**
   * The range of {@code id}, claimed for the data root {@code owner}: the one it already has on this
   * kernel, else {@code preferredBase} when given (non-zero) and free, else the lowest free one.
   */
  public long claim(ContainerId id, Path owner, long preferredBase) {
    return locked(slots -> {
      for (Map.Entry<Integer, List<String>> e : slots.entrySet()) {
        if (e.getValue().get(0).equals(id.value())) {
          if (!e.getValue().contains(owner.toString())) {
            e.getValue().add(owner.toString());
            write(e.getKey(), e.getValue());
          }
          return base(e.getKey());
        }
      }
      int slot = -1;
      if (preferredBase != 0 && (preferredBase - FIRST) % SIZE == 0) {
        int p = (int) ((preferredBase - FIRST) / SIZE);
        if (p >= 0 && p < SLOTS && !slots.containsKey(p)) slot = p;
      }
      for (int s = 0; slot < 0 && s < SLOTS; s++) if (!slots.containsKey(s)) slot = s;
      if (slot < 0) throw new IsolationException("claim id range", id.value(), "all " + SLOTS + " ranges of this kernel are in use");
      write(slot, new ArrayList<>(List.of(id.value(), owner.toString())));
      return base(slot);
    });
  }

  /** {@code owner} no longer holds {@code id}; the range is free once no owner does. Idempotent. */
  public void release(ContainerId id, Path owner) {
    locked(slots -> {
      for (Map.Entry<Integer, List<String>> e : slots.entrySet()) {
        if (!e.getValue().get(0).equals(id.value())) continue;
        e.getValue().remove(owner.toString());
        if (e.getValue().size() == 1) Files.deleteIfExists(file(e.getKey()));
        else write(e.getKey(), e.getValue());
      }
      return null;
    });
  }

  @FunctionalInterface
  private interface Body<T> {
    T run(Map<Integer, List<String>> slots) throws IOException;
  }

  private <T> T locked(Body<T> body) {
    synchronized (MONITOR) {
      try {
        Files.createDirectories(registry);
        try (FileChannel ch = FileChannel.open(registry.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
          return body.run(read());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("id range registry " + registry, e);
      }
    }
  }

  /** Every claimed slot with its lines, owners whose container directory is gone dropped (and slots left without one freed). */
  private Map<Integer, List<String>> read() throws IOException {
    Map<Integer, List<String>> slots = new TreeMap<>();
    try (Stream<Path> s = Files.list(registry)) {
      for (Path f : s.toList()) {
        String name = f.getFileName().toString();
        if (!name.matches("[0-9]{1,5}")) continue;
        List<String> lines = new ArrayList<>(Files.readAllLines(f, StandardCharsets.UTF_8));
        if (lines.isEmpty()) {
          Files.deleteIfExists(f);
          continue;
        }
        String id = lines.get(0);
        boolean changed = lines.subList(1, lines.size()).removeIf(owner -> !Files.isDirectory(Path.of(owner, "containers", id)));
        int slot = Integer.parseInt(name);
        if (lines.size() == 1) {
          Files.deleteIfExists(f);
          continue;
        }
        if (changed) write(slot, lines);
        slots.put(slot, lines);
      }
    }
    return slots;
  }

  private Path file(int slot) {
    return registry.resolve(Integer.toString(slot));
  }

  private void write(int slot, List<String> lines) throws IOException {
    Path tmp = registry.resolve(slot + ".tmp");
    Files.write(tmp, lines, StandardCharsets.UTF_8);
    Files.move(tmp, file(slot), java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
