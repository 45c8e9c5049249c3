package io.berth.isolation.template;

/** Importing or removing a template failed: names the step, the path and the tool's output. */
public final class TemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TemplateException(String message) {
    super(message);
  }
}
