package io.berth.isolation.template;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.TemplateRef;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a template build is asked for, checked before anything runs: a template name, a distribution, and the
 * extra packages to include. A package name follows Debian policy 5.6.1 (lowercase letters, digits, '+', '-',
 * '.', at least two characters, starting with a letter or digit), which also keeps it from being read as an
 * option or from carrying a ',' into debootstrap's list.
 */
public record TemplateBuild(String name, Distribution distribution, List<String> include) {
  public static final int MAX_INCLUDE = 64;
  public static final String PACKAGE_RULE =
      "each must be a Debian package name (2-64 characters of a-z, 0-9, '+', '-', '.', starting with a letter or digit)";
  private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]{1,63}");

  public TemplateBuild {
    InvalidFieldException.required("name", name);
    TemplateRef ref;
    try {
      ref = TemplateRef.of(name);
    } catch (InvalidFieldException e) {
      throw new InvalidFieldException("name", e.rule(), name);
    }
    if (ref.isDigest()) throw new InvalidFieldException("name", "must be a name, not a digest", name);
    InvalidFieldException.required("distribution", distribution);
    include = include == null ? List.of() : List.copyOf(include);
    if (include.size() > MAX_INCLUDE) throw new InvalidFieldException("include", "must list at most " + MAX_INCLUDE + " packages", include.size());
    for (String p : include) {
      if (p == null || !PACKAGE.matcher(p).matches()) throw new InvalidFieldException("include", PACKAGE_RULE, p);
    }
  }

  /** From the text an operator gives: {@code include} as a list of names (each may itself be "a,b"). */
  public static TemplateBuild of(String name, String distribution, List<String> include) {
    List<String> names = new ArrayList<>();
    if (include != null) {
      for (String item : include) {
        if (item == null) throw new InvalidFieldException("include", PACKAGE_RULE, null);
        for (String p : item.split(",", -1)) names.add(p.strip());
      }
    }
    return new TemplateBuild(name, Distribution.of(distribution), names);
  }

  /** The distribution's own packages and the included ones, each once, in that order. */
  public List<String> packages() {
    LinkedHashSet<String> all = new LinkedHashSet<>(distribution.packages());
    all.addAll(include);
    return List.copyOf(all);
  }
}
