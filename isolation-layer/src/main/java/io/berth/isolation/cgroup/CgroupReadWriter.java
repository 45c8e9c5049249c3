package io.berth.isolation.cgroup;

/**
 * The narrow way to the kernel's cgroup files: read and write one file of one controller of one
 * cgroup. On cgroup v2 the controller only chooses the file name's meaning; the path ignores it.
 * The logic above ({@link Cgroups}) speaks only through this, so it can be unit-tested on a tree
 * of plain files, while the product and the host tests run it on /sys/fs/cgroup.
 */
public interface CgroupReadWriter {
  /** The file's content, trimmed; throws {@link CgroupException} when it cannot be read. */
  String read(String controller, String cgroup, String file);

  /** Writes {@code value} to the file (one write(2), as the kernel expects). */
  void write(String controller, String cgroup, String file, String value);
}
