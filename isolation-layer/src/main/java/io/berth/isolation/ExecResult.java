package io.berth.isolation;

/**
 * How a command run inside a container ended.
 *
 * @param exitCode its exit status; 128+N when signal N killed it (as a shell reports it)
 * @param timedOut true when it outlived its timeout and was killed
 */
public record ExecResult(int exitCode, String stdout, String stderr, boolean timedOut) {}
