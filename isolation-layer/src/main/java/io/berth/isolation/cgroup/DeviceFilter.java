package io.berth.isolation.cgroup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The cgroup v2 form of {@link DeviceRules}: cgroup v2 has no devices controller; the kernel asks a
 * {@code BPF_PROG_TYPE_CGROUP_DEVICE} program attached to the cgroup instead, once per mknod and per
 * open of a device node, and refuses with EPERM when it returns 0 (kernel
 * {@code Documentation/admin-guide/cgroup-v2.rst}, "Device controller").
 *
 * <p>The program reads its context ({@code struct bpf_cgroup_dev_ctx}: {@code access_type} =
 * access bits {@code << 16 |} device type, then {@code major}, {@code minor}, each a u32) and tests
 * the rules in order: a rule matches when the type is equal, the major and minor are equal (or the
 * rule's minor is any) and the access asked for is within the rule's. The first match returns 1;
 * falling off the end returns 0 (deny). The instruction layout is the one runc's
 * {@code devicefilter.go} documents; the kernel's verifier checks the program before it runs.
 */
public final class DeviceFilter {
  private DeviceFilter() {}

  /** BPF_DEVCG_ACC_* (linux/bpf.h). */
  static final int ACC_MKNOD = 1;
  static final int ACC_READ = 2;
  static final int ACC_WRITE = 4;
  /** BPF_DEVCG_DEV_*. */
  static final int DEV_BLOCK = 1;
  static final int DEV_CHAR = 2;

  // Opcodes (linux/bpf_common.h, linux/bpf.h): class | op | source.
  static final int LDX_MEM_W = 0x61;   // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
  static final int MOV64_X = 0xbf;     // BPF_ALU64 | BPF_MOV | BPF_X: dst = src
  static final int MOV64_K = 0xb7;     // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
  static final int AND64_K = 0x57;     // BPF_ALU64 | BPF_AND | BPF_K: dst &= imm
  static final int RSH64_K = 0x77;     // BPF_ALU64 | BPF_RSH | BPF_K: dst >>= imm
  static final int JNE_K = 0x55;       // BPF_JMP | BPF_JNE | BPF_K: if dst != imm, pc += off
  static final int EXIT = 0x95;        // BPF_JMP | BPF_EXIT: return r0

  static final int INSN_BYTES = 8;

  /** The program's instructions as the kernel takes them ({@code struct bpf_insn[]}, native order). */
  public static byte[] compile(List<DeviceRule> rules) {
    Program p = new Program();
    // r1 is the context. r3 = device type, r2 = access bits, r4 = major, r5 = minor.
    p.insn(LDX_MEM_W, 2, 1, 0, 0);
    p.insn(MOV64_X, 3, 2, 0, 0);
    p.insn(AND64_K, 3, 0, 0, 0xffff);
    p.insn(RSH64_K, 2, 0, 0, 16);
    p.insn(LDX_MEM_W, 4, 1, 4, 0);
    p.insn(LDX_MEM_W, 5, 1, 8, 0);
    for (DeviceRule r : rules) {
      int allowed = access(r.access());
      boolean anyMinor = r.minor() == DeviceRule.ANY;
      boolean allAccess = allowed == (ACC_MKNOD | ACC_READ | ACC_WRITE);
      // Every jump of a block goes to the first instruction after it.
      int length = 1 + 1 + (anyMinor ? 0 : 1) + (allAccess ? 0 : 3) + 2;
      int next = p.count() + length;
      p.jumpIfNot(3, r.type() == 'c' ? DEV_CHAR : DEV_BLOCK, next);
      p.jumpIfNot(4, r.major(), next);
      if (!anyMinor) p.jumpIfNot(5, r.minor(), next);
      if (!allAccess) {
        // Asked for something outside the rule's access: r1 = r2 & ~allowed must be 0.
        p.insn(MOV64_X, 1, 2, 0, 0);
        p.insn(AND64_K, 1, 0, 0, ~allowed & 7);
        p.jumpIfNot(1, 0, next);
      }
      p.insn(MOV64_K, 0, 0, 0, 1);
      p.insn(EXIT, 0, 0, 0, 0);
      if (p.count() != next) throw new IllegalStateException("device filter block length miscounted for " + r);
    }
    p.insn(MOV64_K, 0, 0, 0, 0);
    p.insn(EXIT, 0, 0, 0, 0);
    return p.bytes();
  }

  static int access(String access) {
    int bits = 0;
    for (char ch : access.toCharArray()) bits |= ch == 'r' ? ACC_READ : ch == 'w' ? ACC_WRITE : ACC_MKNOD;
    return bits;
  }

  private static final class Program {
    private final ByteBuffer buf = ByteBuffer.allocate(4096 * INSN_BYTES).order(ByteOrder.nativeOrder());

    int count() {
      return buf.position() / INSN_BYTES;
    }

    void insn(int code, int dst, int src, int off, int imm) {
      buf.put((byte) code);
      // struct bpf_insn's dst_reg:4, src_reg:4 bit-fields: dst in the low nibble on little-endian.
      boolean little = buf.order() == ByteOrder.LITTLE_ENDIAN;
      buf.put((byte) (little ? (src << 4) | dst : (dst << 4) | src));
      buf.putShort((short) off);
      buf.putInt(imm);
    }

    /** if reg != imm goto target (the offset counts from the next instruction). */
    void jumpIfNot(int reg, int imm, int target) {
      insn(JNE_K, reg, 0, target - count() - 1, imm);
    }

    byte[] bytes() {
      byte[] out = new byte[buf.position()];
      buf.flip();
      buf.get(out);
      return out;
    }
  }
}
