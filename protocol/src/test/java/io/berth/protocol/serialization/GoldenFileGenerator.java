package io.berth.protocol.serialization;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.event.BerthEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the golden file of every event format that has none yet: run it by hand after adding an
 * event type (or a new version), then commit the new file:
 *
 * <pre>mvn -o -pl protocol test -Dtest=GoldenFileGenerator -Dberth.golden.generate=true</pre>
 *
 * It never overwrites: an existing golden file is the record of what was stored, and a test that
 * fails against it means the change is incompatible, not that the file is stale.
 */
class GoldenFileGenerator {

  @Test
  @EnabledIfSystemProperty(named = "berth.golden.generate", matches = "true")
  void writeMissingGoldenFiles() throws Exception {
    Files.createDirectories(GoldenFiles.dir());
    List<String> written = new ArrayList<>();
    for (EventFormat<?> format : BerthEventCodec.allFormats()) {
      Path file = GoldenFiles.of(format.manifest());
      if (Files.exists(file)) continue;
      BerthEvent sample = Samples.event(format.type());
      Files.write(file, BerthEventCodec.toBytes(sample), StandardOpenOption.CREATE_NEW);
      written.add(file.getFileName().toString());
    }
    System.out.println("golden files written: " + (written.isEmpty() ? "none (all exist)" : written));
    assertTrue(Files.isDirectory(GoldenFiles.dir()));
  }
}
