package io.berth.chaos;

import java.util.List;

/** What one checker decided: valid or not, each problem naming the container, the hosts and the times; what it checked. */
record Verdict(String checker, boolean valid, List<String> problems, String checked) {
  static Verdict of(String checker, List<String> problems, String checked) {
    return new Verdict(checker, problems.isEmpty(), List.copyOf(problems), checked);
  }
}
