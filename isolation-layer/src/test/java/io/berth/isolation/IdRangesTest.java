package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.berth.isolation.idmap.IdRanges;
import io.berth.protocol.ids.ContainerId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The id range registry on a plain directory: claims, owners, release, stale owners. */
class IdRangesTest {
  @TempDir
  Path tmp;

  private Path owner(String name, ContainerId... ids) throws Exception {
    Path root = tmp.resolve(name);
    for (ContainerId id : ids) Files.createDirectories(root.resolve("containers").resolve(id.value()));
    return root;
  }

  @Test
  void rangesAreDistinctPerContainerSharedByItsOwnersAndFreedWithTheLast() throws Exception {
    IdRanges r = new IdRanges(tmp.resolve("registry"));
    ContainerId web = ContainerId.of("web"), db = ContainerId.of("db");
    Path a = owner("a", web, db), b = owner("b", web);
    long w = r.claim(web, a, 0);
    long d = r.claim(db, a, 0);
    assertEquals(IdRanges.base(0), w, "the lowest free range first");
    assertEquals(IdRanges.base(1), d);
    assertEquals(w, r.claim(web, b, 0), "a container keeps its range on a second data root of the same kernel (a move)");
    assertEquals(w, r.claim(web, a, IdRanges.base(7)), "a claim again is the same range, whatever is preferred");
    r.release(web, a);
    assertNotEquals(w, r.claim(ContainerId.of("other"), owner("c", ContainerId.of("other")), w), "still held by b");
    r.release(web, b);
    assertEquals(w, r.claim(ContainerId.of("next"), owner("d", ContainerId.of("next")), 0), "free again once no owner holds it");
  }

  @Test
  void aPreferredFreeRangeIsTakenAndAnOwnerWhoseDirectoryIsGoneNoLongerCounts() throws Exception {
    IdRanges r = new IdRanges(tmp.resolve("registry"));
    ContainerId web = ContainerId.of("web");
    Path a = owner("a", web);
    assertEquals(IdRanges.base(5), r.claim(web, a, IdRanges.base(5)));
    Files.delete(a.resolve("containers/web"));
    ContainerId db = ContainerId.of("db");
    assertEquals(IdRanges.base(0), r.claim(db, owner("b", db), 0));
    ContainerId late = ContainerId.of("late");
    assertEquals(IdRanges.base(5), r.claim(late, owner("c", late), IdRanges.base(5)), "a crashed owner's range is free");
    assertEquals(IdRanges.base(1), r.claim(ContainerId.of("x"), owner("d", ContainerId.of("x")), IdRanges.base(0) + 1),
        "a preferred base that is no range's start is ignored");
  }
}
