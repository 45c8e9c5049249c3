package io.berth.isolation.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive a template is built from is the one apt is configured with, in either format of sources. */
class AptSourcesTest {
  @TempDir
  Path etc;

  @Test
  void deb822SkipsSecurityDisabledAndSourceOnlyStanzas() throws Exception {
    Files.createDirectories(etc.resolve("sources.list.d"));
    Files.writeString(etc.resolve("sources.list.d/debian.sources"), """
        Types: deb
        URIs: http://mirror.example/debian-security
        Suites: bookworm-security
        Components: main

        Types: deb-src
        URIs: http://src.example/debian
        Suites: bookworm

        Types: deb
        URIs: http://off.example/debian
        Enabled: no

        Types: deb deb-src
        # a comment between the fields
        URIs: http://archive.example/debian/
        Suites: bookworm bookworm-updates
        Components: main
        """);
    assertEquals(Optional.of("http://archive.example/debian"), AptSources.debianArchive(etc));
  }

  @Test
  void oneLineSourcesWithOptions() throws Exception {
    Files.writeString(etc.resolve("sources.list"), """
        # deb http://commented.example/debian bookworm main
        deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64] http://one.example/debian bookworm main
        """);
    assertEquals(Optional.of("http://one.example/debian"), AptSources.debianArchive(etc));
  }

  @Test
  void noDebianArchiveIsEmpty() throws Exception {
    Files.writeString(etc.resolve("sources.list"), "deb http://ppa.example/ubuntu jammy main\n");
    assertTrue(AptSources.debianArchive(etc).isEmpty());
  }
}
