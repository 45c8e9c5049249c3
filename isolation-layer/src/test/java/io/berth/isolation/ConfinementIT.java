package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The capability bounding set and the seccomp filter, tried from inside running containers as
 * their root. Each attack is first shown to work in a privileged container (spec privileged=true:
 * both layers off), then to be refused in a confined one, on the kernel's view
 * ({@code /proc/PID/status}, the errno a system call returns).
 */
class ConfinementIT {
  /** Where the probe goes in the container (its writable layer's root). */
  private static final String PROBE = "/berth-syscall-probe";
  /** Calls the filter refuses; with the probe's arguments each fails otherwise with another errno (or is ENOSYS here). */
  private static final List<String> REFUSED = List.of("init_module", "finit_module", "delete_module", "kexec_load",
      "kexec_file_load", "open_by_handle_at", "umount2_force", "swapon", "swapoff", "bpf", "perf_event_open",
      "io_uring_setup",
      // the same through the i386 and x32 entries: switching ABI must not slip past the filter
      "i386:finit_module", "i386:open_by_handle_at", "x32:finit_module");
  /** Calls that must keep working in a confined container (a plain umount2, a 32-bit program's getpid). */
  private static final List<String> ALLOWED = List.of("umount2", "getpid", "i386:getpid");

  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private static ContainerSpec spec(ContainerId id, boolean privileged) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), Limits.DEFAULT,
        null, null, null, privileged);
  }

  private int startSleeper(ContainerId id, boolean privileged) {
    layer.prepare(spec(id, privileged), null);
    return layer.start(id);
  }

  private String exec(IsolationLayer l, ContainerId id, String... argv) {
    ExecResult r = l.exec(id, List.of(argv), Duration.ofSeconds(10));
    assertEquals(0, r.exitCode(), String.join(" ", argv) + " in " + id + ": " + r.stderr());
    return r.stdout();
  }

  @Test
  void initAndExecHoldTheChosenCapabilitiesAndTheFilterAndPrivilegedHoldsTheHosts() {
    ContainerId priv = host.newId("caps-priv");
    ContainerId conf = host.newId("caps-conf");
    int privPid = startSleeper(priv, true);
    int confPid = startSleeper(conf, false);
    // What root each runs as: the host's (privileged) or uid 0 of a user namespace of its own.
    assertEquals(userns((int) ProcessHandle.current().pid()), userns(privPid), "the privileged init shares the host's user namespace");
    assertNotEquals(userns((int) ProcessHandle.current().pid()), userns(confPid), "the confined init has a user namespace of its own");

    // Privileged: the host's full bounding and effective sets, no filter; the init and an exec alike.
    Confinement.assertUnconfined(Confinement.status(privPid), "privileged init (host view)");
    Confinement.assertUnconfined(exec(layer, priv, "cat", "/proc/1/status"), "privileged init (inside)");
    Confinement.assertUnconfined(exec(layer, priv, "cat", "/proc/self/status"), "privileged exec");

    // Confined: the chosen set and one filter, whether the process is the init or came in by exec.
    Confinement.assertConfined(Confinement.status(confPid), "confined init (host view)");
    Confinement.assertConfined(exec(layer, conf, "cat", "/proc/1/status"), "confined init (inside)");
    Confinement.assertConfined(exec(layer, conf, "cat", "/proc/self/status"), "confined exec");
    assertNotEquals(Confinement.hostBounding(), Confinement.confinedBounding(), "the chosen set is smaller than the host's");
  }

  @Test
  void moduleKexecAndHandleCallsSucceedPrivilegedAndAreRefusedConfined() throws Exception {
    Path probe = buildProbe();
    ContainerId priv = host.newId("sys-priv");
    ContainerId conf = host.newId("sys-conf");
    for (ContainerId id : List.of(priv, conf)) {
      layer.prepare(spec(id, id.equals(priv)), null);
      Files.copy(probe, layer.upperDir(id).resolve(PROBE.substring(1)), StandardCopyOption.COPY_ATTRIBUTES);
      layer.start(id);
    }
    List<String> all = new ArrayList<>(REFUSED);
    all.addAll(ALLOWED);

    Map<String, String> privileged = probe(priv, all);
    for (String call : REFUSED) {
      assertNotEquals("EPERM", privileged.get(call), call + " in a privileged container must get past the filter: " + privileged);
    }
    Map<String, String> confined = probe(conf, all);
    Map<String, String> notRefused = new LinkedHashMap<>();
    for (String call : REFUSED) if (!"EPERM".equals(confined.get(call))) notRefused.put(call, confined.get(call));
    assertEquals(Map.of(), notRefused, "calls a confined container's root must get EPERM for");
    for (String call : ALLOWED) {
      assertEquals(privileged.get(call), confined.get(call), call + " must behave in a confined container as in a privileged one");
    }
    assertEquals("OK", confined.get("i386:getpid"), "32-bit programs still run under the filter");
  }

  @Test
  void confinementIsRecordedSoAnotherOwnerExecsAndRestartsAlike() {
    ContainerId priv = host.newId("own-priv");
    ContainerId conf = host.newId("own-conf");
    startSleeper(priv, true);
    startSleeper(conf, false);
    // A second layer over the same data root is what the owner sees after a restart: only the record tells.
    IsolationLayer again = host.layer("a");
    Confinement.assertUnconfined(exec(again, priv, "cat", "/proc/self/status"), "privileged exec after an owner restart");
    Confinement.assertConfined(exec(again, conf, "cat", "/proc/self/status"), "confined exec after an owner restart");
    for (ContainerId id : List.of(priv, conf)) {
      again.stop(id, Duration.ofMillis(100)); // sleep as PID 1 ignores SIGTERM: straight on to SIGKILL
      again.start(id);
    }
    Confinement.assertUnconfined(Confinement.status(again.inspect(priv).initPid()), "privileged init restarted by the new owner");
    Confinement.assertConfined(Confinement.status(again.inspect(conf).initPid()), "confined init restarted by the new owner");
  }

  private static String userns(int pid) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns", "user")).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the probe in the container; its answer per call (an errno name or OK). */
  private Map<String, String> probe(ContainerId id, List<String> calls) {
    List<String> argv = new ArrayList<>(List.of(PROBE));
    argv.addAll(calls);
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : exec(layer, id, argv.toArray(String[]::new)).strip().split("\n")) {
      String[] f = line.split(" ", 2);
      out.put(f[0], f[1]);
    }
    assertEquals(calls, List.copyOf(out.keySet()), "the probe answered every call: " + out);
    assertTrue(out.values().stream().noneMatch("unknown-probe"::equals), "the probe knows every call: " + out);
    return out;
  }

  /** Compiles src/test/c/syscall-probe.c statically (the template has no tool that makes these calls). */
  private Path buildProbe() {
    Path out = host.runDir().resolve("syscall-probe");
    Commands.Result r = Commands.run(List.of("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", out.toString(),
        Path.of("src/test/c/syscall-probe.c").toAbsolutePath().toString()), null, Duration.ofSeconds(60));
    assertTrue(r.ok(), "gcc syscall-probe.c: " + r.describe());
    return out;
  }
}
