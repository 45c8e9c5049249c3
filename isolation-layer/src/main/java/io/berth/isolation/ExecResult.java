package io.berth.isolation;

/**
 * How a command run inside a container ended.
 *
 * @param exitCode its exit status; 128+N when signal N killed it (as a shell reports it)
 * @param timedOut true when it outlived its timeout and was killed
 * @param truncated its output passed the bound ({@link io.berth.isolation.process.Commands#DEFAULT_MAX_OUTPUT} bytes
 *                  of each of stdout and stderr are kept): the rest was read and dropped
 */
public record ExecResult(int exitCode, String stdout, String stderr, boolean timedOut, boolean truncated) {}
