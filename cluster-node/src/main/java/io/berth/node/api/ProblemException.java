package io.berth.node.api;

/** Thrown inside the routes to answer with {@code problem}; never escapes the API package. */
final class ProblemException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final transient Problem problem;

  ProblemException(Problem problem) {
    super(problem.detail(), null, false, false);
    this.problem = problem;
  }

  static ProblemException badRequest(String kind, String title, String field, String rule, String detail) {
    return new ProblemException(Problem.of(kind, title, 400, detail, field, rule));
  }
}
