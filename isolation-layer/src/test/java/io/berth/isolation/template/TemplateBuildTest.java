package io.berth.isolation.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.protocol.InvalidFieldException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A build's input is refused before anything runs, naming the field and the rule. */
class TemplateBuildTest {
  @Test
  void packagesAreTheDistributionsThenTheIncludedOnce() {
    TemplateBuild b = TemplateBuild.of("web", "debian-12", List.of("nginx,openssh-server", "dbus"));
    assertEquals(List.of("systemd", "systemd-sysv", "dbus", "iproute2", "procps", "nginx", "openssh-server"), b.packages());
    assertEquals("bookworm", b.distribution().suite());
  }

  @Test
  void badInputNamesFieldAndRule() {
    assertField("distribution", "must be one of [debian-12]", () -> TemplateBuild.of("web", "debian-13", List.of()));
    assertField("distribution", "must be given", () -> TemplateBuild.of("web", null, List.of()));
    assertField("name", "must be given", () -> TemplateBuild.of(null, "debian-12", List.of()));
    assertField("name", "must be a name, not a digest", () -> TemplateBuild.of("sha256:" + "0".repeat(64), "debian-12", List.of()));
    assertField("name", io.berth.protocol.spec.TemplateRef.RULE, () -> TemplateBuild.of("../x", "debian-12", List.of()));
    // An option in disguise, a shell word, an empty item, upper case, one letter: none is a package name.
    for (String bad : List.of("--foreign", "a;b", "", "Nginx", "x", "nginx,")) {
      assertField("include", TemplateBuild.PACKAGE_RULE, () -> TemplateBuild.of("web", "debian-12", List.of(bad)));
    }
    assertField("include", "must list at most 64 packages",
        () -> TemplateBuild.of("web", "debian-12", java.util.Collections.nCopies(65, "less")));
  }

  private static void assertField(String field, String rule, org.junit.jupiter.api.function.Executable e) {
    InvalidFieldException x = assertThrows(InvalidFieldException.class, e);
    assertEquals(field, x.field(), x.getMessage());
    assertEquals(rule, x.rule(), x.getMessage());
  }
}
