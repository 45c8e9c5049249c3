package io.berth.isolation.cgroup;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** The real {@link CgroupReadWriter}: files under a cgroup mount root, laid out as v1 or v2. */
public final class CgroupFiles implements CgroupReadWriter {
  public static final Path SYS_FS_CGROUP = Path.of("/sys/fs/cgroup");

  private final Path root;
  private final CgroupVersion version;

  public CgroupFiles(Path root, CgroupVersion version) {
    this.root = root;
    this.version = version;
  }

  public static CgroupFiles host() {
    return new CgroupFiles(SYS_FS_CGROUP, CgroupVersion.detect(SYS_FS_CGROUP));
  }

  public CgroupVersion version() {
    return version;
  }

  /** The directory of {@code cgroup} in the hierarchy that holds {@code controller}. */
  public Path dir(String controller, String cgroup) {
    return version == CgroupVersion.V1 ? root.resolve(controller).resolve(cgroup) : root.resolve(cgroup);
  }

  @Override
  public String read(String controller, String cgroup, String file) {
    Path p = dir(controller, cgroup).resolve(file);
    try {
      return Files.readString(p, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new CgroupException("read " + p + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void write(String controller, String cgroup, String file, String value) {
    Path p = dir(controller, cgroup).resolve(file);
    try {
      // No CREATE: cgroup files exist or the controller is not there; never make plain files.
      // TRUNCATE_EXISTING as a shell's `>` does: cgroupfs ignores it, a plain file (unit tests) needs it.
      Files.write(p, value.getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new CgroupException("write " + value + " to " + p + ": " + e.getMessage(), e);
    }
  }

  public boolean exists(String controller, String cgroup, String file) {
    return Files.exists(dir(controller, cgroup).resolve(file));
  }

  public boolean exists(String controller, String cgroup) {
    return Files.isDirectory(dir(controller, cgroup));
  }

  /** mkdir; the kernel fills the directory with the controller's files. True when it made it. */
  public boolean create(String controller, String cgroup) {
    Path d = dir(controller, cgroup);
    if (Files.isDirectory(d)) return false;
    try {
      Files.createDirectories(d);
      return true;
    } catch (IOException e) {
      throw new CgroupException("create cgroup " + d + ": " + e.getMessage(), e);
    }
  }

  /** cgroup v2: attaches the device program {@code instructions} to the cgroup (see {@link DeviceFilter}). */
  public void attachDeviceProgram(String cgroup, byte[] instructions) {
    Path d = dir("", cgroup);
    try {
      Syscalls.attachDeviceProgram(d.toString(), instructions);
    } catch (SyscallException e) {
      throw new CgroupException("attach the device program to " + d + ": " + e.getMessage(), e);
    }
  }

  /** v1: every hierarchy's directory under the root (cpu, memory, systemd, unified...); v2: none. */
  public List<String> hierarchies() {
    if (version != CgroupVersion.V1 || !Files.isDirectory(root)) return List.of();
    try (java.util.stream.Stream<Path> s = Files.list(root)) {
      return s.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).map(p -> p.getFileName().toString()).sorted().toList();
    } catch (java.io.IOException e) {
      throw new CgroupException("list the hierarchies under " + root, e);
    }
  }

  /** rmdir (a cgroup is removed by rmdir, never by deleting its files); false when absent. */
  public boolean remove(String controller, String cgroup) {
    Path d = dir(controller, cgroup);
    try {
      return Files.deleteIfExists(d);
    } catch (NoSuchFileException e) {
      return false;
    } catch (DirectoryNotEmptyException e) {
      throw new CgroupException("remove cgroup " + d + ": it still has child cgroups or processes", e);
    } catch (IOException e) {
      throw new CgroupException("remove cgroup " + d + ": " + e.getMessage(), e);
    }
  }
}
