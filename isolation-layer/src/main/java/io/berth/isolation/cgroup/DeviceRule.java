package io.berth.isolation.cgroup;

/**
 * One device a container may use: what cgroup v1's devices controller takes as
 * {@code "TYPE MAJOR:MINOR ACCESS"} in {@code devices.allow}, and what the cgroup v2 device program
 * ({@link DeviceFilter}) is compiled from.
 *
 * @param type   {@code 'c'} (character) or {@code 'b'} (block)
 * @param major  the device's major number
 * @param minor  its minor number, or {@link #ANY} for every minor of the major
 * @param access any of {@code r} (open for reading), {@code w} (open for writing), {@code m} (mknod)
 * @param name   the node's usual name, for people
 */
public record DeviceRule(char type, int major, int minor, String access, String name) {
  public static final int ANY = -1;

  public DeviceRule {
    if (type != 'c' && type != 'b') throw new IllegalArgumentException("device type must be c or b: " + type);
    if (major < 0 || minor < ANY) throw new IllegalArgumentException("device numbers must be >= 0: " + major + ":" + minor);
    if (access.isEmpty() || !access.chars().allMatch(ch -> ch == 'r' || ch == 'w' || ch == 'm') || access.chars().distinct().count() != access.length()) {
      throw new IllegalArgumentException("device access must be a set of r, w, m: " + access);
    }
  }

  /** The line for devices.allow, and the form devices.list shows it in. */
  public String v1() {
    return type + " " + major + ":" + (minor == ANY ? "*" : Integer.toString(minor)) + " " + access;
  }
}
