package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.isolation.cgroup.DeviceFilter;
import io.berth.isolation.cgroup.DeviceRule;
import io.berth.isolation.cgroup.DeviceRules;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cgroup v2 device program's decisions, run by a small interpreter of the few eBPF instructions
 * {@link DeviceFilter} emits (a test double of the kernel's BPF machine; the real kernel runs the
 * same bytes in {@code DeviceProgramIT}).
 */
class DeviceFilterTest {
  private static final int MKNOD = 1, READ = 2, WRITE = 4, BLOCK = 1, CHAR = 2;

  @Test
  void defaultRulesAllowTheUsualNodesAndNothingElse() {
    byte[] prog = DeviceFilter.compile(DeviceRules.DEFAULT);
    for (int minor : new int[] {3, 5, 7, 8, 9}) {
      assertEquals(1, run(prog, CHAR, READ | WRITE, 1, minor), "c 1:" + minor);
      assertEquals(1, run(prog, CHAR, MKNOD, 1, minor), "mknod c 1:" + minor);
    }
    for (int minor : new int[] {0, 2}) assertEquals(1, run(prog, CHAR, READ | WRITE, 5, minor), "c 5:" + minor);
    assertEquals(0, run(prog, CHAR, READ | WRITE, 5, 1), "c 5:1, the host's console");
    assertEquals(1, run(prog, CHAR, READ | WRITE, 136, 0), "pts 0");
    assertEquals(1, run(prog, CHAR, READ, 136, 4095), "any pts");
    assertEquals(0, run(prog, BLOCK, READ, 254, 0), "the host's disk (vda)");
    assertEquals(0, run(prog, BLOCK, MKNOD, 254, 0), "mknod of the host's disk");
    assertEquals(0, run(prog, BLOCK, READ, 1, 3), "a block device with null's numbers");
    assertEquals(0, run(prog, CHAR, READ, 1, 1), "c 1:1 (/dev/mem)");
    assertEquals(0, run(prog, CHAR, READ, 1, 2), "c 1:2 (/dev/kmem)");
    assertEquals(0, run(prog, CHAR, READ | WRITE, 10, 229), "fuse is not on the list");
    assertEquals(0, run(prog, CHAR, READ, 137, 0), "pts of another major");
    assertEquals(0, run(prog, CHAR, READ, 5, 3), "c 5:3");
  }

  @Test
  void accessOutsideARulesAccessIsRefused() {
    byte[] prog = DeviceFilter.compile(List.of(new DeviceRule('c', 1, 3, "r", "null"), new DeviceRule('b', 7, DeviceRule.ANY, "rw", "loop")));
    assertEquals(1, run(prog, CHAR, READ, 1, 3));
    assertEquals(0, run(prog, CHAR, WRITE, 1, 3));
    assertEquals(0, run(prog, CHAR, READ | WRITE, 1, 3), "read-write needs both");
    assertEquals(0, run(prog, CHAR, MKNOD, 1, 3));
    assertEquals(1, run(prog, BLOCK, READ | WRITE, 7, 12));
    assertEquals(0, run(prog, BLOCK, MKNOD, 7, 12));
    assertEquals(0, run(prog, CHAR, READ, 7, 12), "type must match");
  }

  @Test
  void noRulesDenyEverything() {
    assertEquals(0, run(DeviceFilter.compile(List.of()), CHAR, READ, 1, 3));
  }

  @Test
  void badRulesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new DeviceRule('x', 1, 3, "r", "?"));
    assertThrows(IllegalArgumentException.class, () -> new DeviceRule('c', 1, 3, "rx", "?"));
    assertThrows(IllegalArgumentException.class, () -> new DeviceRule('c', 1, 3, "", "?"));
    assertThrows(IllegalArgumentException.class, () -> new DeviceRule('c', -1, 3, "r", "?"));
  }

  /** Runs the program on a bpf_cgroup_dev_ctx {access << 16 | type, major, minor}; returns r0. */
  private static long run(byte[] prog, int type, int access, int major, int minor) {
    ByteBuffer b = ByteBuffer.wrap(prog).order(ByteOrder.nativeOrder());
    boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    int[] ctx = {access << 16 | type, major, minor};
    long[] r = new long[11];
    r[1] = -1; // the context pointer: only loads through it are allowed
    int n = prog.length / 8;
    for (int pc = 0, steps = 0; steps < 10_000; steps++) {
      if (pc < 0 || pc >= n) throw new AssertionError("jumped outside the program: " + pc);
      int code = b.get(pc * 8) & 0xff;
      int regs = b.get(pc * 8 + 1) & 0xff;
      int dst = little ? regs & 0xf : regs >> 4;
      int src = little ? regs >> 4 : regs & 0xf;
      int off = b.getShort(pc * 8 + 2);
      long imm = b.getInt(pc * 8 + 4);
      pc++;
      switch (code) {
        case 0x61 -> {
          if (r[src] != -1 || off % 4 != 0 || off < 0 || off > 8) throw new AssertionError("bad context load at " + (pc - 1));
          r[dst] = ctx[off / 4] & 0xffffffffL;
        }
        case 0xbf -> r[dst] = r[src];
        case 0xb7 -> r[dst] = imm;
        case 0x57 -> r[dst] &= imm;
        case 0x77 -> r[dst] >>>= imm;
        case 0x55 -> { if (r[dst] != imm) pc += off; }
        case 0x95 -> { return r[0]; }
        default -> throw new AssertionError("unexpected opcode 0x" + Integer.toHexString(code));
      }
    }
    throw new AssertionError("the program did not exit");
  }
}
