package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.isolation.template.Template;
import io.berth.isolation.template.TemplateStore;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Template import by content digest, from a directory and a tarball; escapes refused. */
class TemplateStoreTest {
  @TempDir
  Path tmp;

  private Path tree(String name, String content) throws Exception {
    Path d = tmp.resolve(name);
    Files.createDirectories(d.resolve("bin"));
    Files.writeString(d.resolve("bin/hello"), content);
    Files.createSymbolicLink(d.resolve("bin/hi"), Path.of("/bin/hello"));
    return d;
  }

  @Test
  void sameContentSameDigestOneCopy() throws Exception {
    TemplateStore store = new TemplateStore(tmp.resolve("store"), Map.of());
    Template a = store.importDirectory(tree("a", "hello"), "alpha");
    Template b = store.importDirectory(tree("b", "hello"), "beta");
    Template c = store.importDirectory(tree("c", "other"), null);
    assertEquals(a.digest(), b.digest());
    assertNotEquals(a.digest(), c.digest());
    assertTrue(a.digest().matches("sha256:[0-9a-f]{64}"));
    assertEquals(2, store.list().size());
    assertEquals(a.digest(), store.resolve(TemplateRef.of("beta")).digest());
    assertEquals(a.rootfs(), store.resolve(TemplateRef.of(a.digest())).rootfs());
    assertEquals("hello", Files.readString(a.rootfs().resolve("bin/hello")));
    assertEquals(Path.of("/bin/hello"), Files.readSymbolicLink(a.rootfs().resolve("bin/hi")), "links are kept as they are");
    assertEquals(a.digest(), TemplateStore.digest(a.rootfs()), "the stored copy hashes to its digest");
  }

  @Test
  void tarballImportAndEscapesRefused() throws Exception {
    TemplateStore store = new TemplateStore(tmp.resolve("store"), Map.of());
    Path src = tree("t", "hello");
    Path tar = tmp.resolve("t.tar.gz");
    assertTrue(Commands.run(List.of("tar", "-czf", tar.toString(), "-C", src.toString(), "."), null, Duration.ofSeconds(30)).ok());
    Template t = store.importTarball(tar, "from-tar");
    assertEquals(store.importDirectory(src, null).digest(), t.digest(), "a tarball of the same tree has the same digest");

    Path evil = tmp.resolve("evil.tar");
    assertTrue(Commands.run(List.of("tar", "-cf", evil.toString(), "-P", "-C", tmp.toString(), "t/bin/../bin/hello"), null,
        Duration.ofSeconds(30)).ok());
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> store.importTarball(evil, "evil"));
    assertEquals("template.tarball", e.field());
    assertFalse(store.digestOf("evil").isPresent(), "a refused import names nothing");
    assertEquals("template", assertThrows(InvalidFieldException.class, () -> store.resolve(TemplateRef.of("missing"))).field());
    assertEquals("template", assertThrows(InvalidFieldException.class, () -> store.importDirectory(src, "../up")).field());
  }

  @Test
  void busyboxResolvesFromTheSetUpsTemplate() {
    Path busybox = IsolationConfig.repo().map(r -> r.resolve(".local/templates/busybox")).orElse(null);
    org.junit.jupiter.api.Assumptions.assumeTrue(busybox != null && Files.isDirectory(busybox), "bin/setup-host builds the busybox template");
    TemplateStore store = new TemplateStore(tmp.resolve("store"), Map.of("busybox", busybox));
    Template t = store.resolve(TemplateRef.of("busybox"));
    assertEquals(TemplateStore.digest(busybox), t.digest());
    assertTrue(Files.isRegularFile(t.rootfs().resolve("bin/busybox")));
  }
}
