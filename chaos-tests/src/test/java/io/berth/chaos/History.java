package io.berth.chaos;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a chaos run did, in the order it happened (Jepsen's history): each client operation as an {@code invoke} and
 * then its completion ({@code ok}, {@code fail} or {@code unknown} when it timed out or the connection broke, so it
 * may or may not have happened), and each fault of the nemesis as an {@code invoke} (injected) and an {@code ok}
 * (healed). Appends are safe from any thread; the checkers read a copy.
 */
final class History {
  enum Type { INVOKE, OK, FAIL, UNKNOWN }

  /**
   * One entry. {@code process} is the client (0..K-1) or {@code "nemesis"}; {@code f} the operation (create, stop,
   * migrate-live, drain, ... or kill-node, partition, ...); {@code target} the container or host it acted on;
   * {@code correlationId} the X-Correlation-Id it was sent with (the events it caused carry it); {@code detail} the
   * HTTP status and problem, or what the fault did.
   */
  record Op(long index, String process, Type type, String f, String target, String correlationId, Instant at,
      Map<String, Object> args, String detail) {}

  private final List<Op> ops = new ArrayList<>();

  synchronized Op add(String process, Type type, String f, String target, String correlationId, Map<String, Object> args, String detail) {
    Op op = new Op(ops.size(), process, type, f, target, correlationId, Instant.now(), args == null ? Map.of() : Map.copyOf(args), detail);
    ops.add(op);
    return op;
  }

  /** Adds an op made elsewhere (the unit tests build histories by hand), renumbered in order. */
  synchronized void add(Op op) {
    ops.add(new Op(ops.size(), op.process(), op.type(), op.f(), op.target(), op.correlationId(), op.at(), op.args(), op.detail()));
  }

  synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  /** Each completion with the invoke it completes (same process and correlation id). */
  record Pair(Op invoke, Op completion) {}

  List<Pair> completed() {
    List<Op> all = ops();
    Map<String, Op> open = new java.util.HashMap<>();
    List<Pair> pairs = new ArrayList<>();
    for (Op op : all) {
      String key = op.process() + "/" + op.correlationId();
      if (op.type() == Type.INVOKE) open.put(key, op);
      else {
        Op invoke = open.remove(key);
        if (invoke != null) pairs.add(new Pair(invoke, op));
      }
    }
    return pairs;
  }

  /** The time the last fault healed, or null when none was injected. */
  Instant lastHeal() {
    Instant last = null;
    for (Op op : ops()) if ("nemesis".equals(op.process()) && op.type() != Type.INVOKE) last = op.at();
    return last;
  }
}
