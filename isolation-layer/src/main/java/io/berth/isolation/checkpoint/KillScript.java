package io.berth.isolation.checkpoint;

/**
 * The shell function the wrappers of a held dump ({@link HeldDump}) and of a lazy-pages daemon
 * ({@code io.berth.isolation.LazyPages}) use when a container's processes must not run on: it SIGKILLs every process
 * listed in the cgroup.procs files named, one per line, in the file {@code procs} of the wrapper's directory, in
 * rounds (a fork between reading and killing is caught by the next one) until they are empty, for at most about 1 s.
 * A wrapper runs outside the JVM, so the kill does not depend on the node being alive.
 */
public final class KillScript {
  public static final String FUNCTION = """
      kill_cgroups() {
        n=0
        while [ $n -lt 100 ]; do
          p=$(cat $(cat procs) 2>/dev/null)
          [ -z "$p" ] && return 0
          kill -9 $p 2>/dev/null
          sleep 0.01
          n=$((n+1))
        done
      }
      """;

  private KillScript() {}
}
