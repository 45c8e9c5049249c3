package io.berth.persistence.embedded;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM's classpath: the {@code persistence-cassandra-server} jar (its main class) plus the jars of
 * cassandra-all and its dependencies, as Maven resolved them when that module was built (a resource in the jar).
 */
final class ServerClasspath {
  static final String MAIN_CLASS = "io.berth.persistence.server.CassandraServerMain";
  private static final String RESOURCE = "io/berth/persistence/server/cassandra-server.classpath";

  private ServerClasspath() {}

  static String resolve() {
    URL url = ServerClasspath.class.getClassLoader().getResource(RESOURCE);
    if (url == null) {
      throw new EmbeddedCassandraException("find the embedded Cassandra classpath: resource " + RESOURCE
          + " is missing; is io.berth:persistence-cassandra-server on the classpath (mvn -pl persistence/cassandra-server install)?");
    }
    List<String> entries = new ArrayList<>();
    entries.add(containerOf(url, RESOURCE).toString());
    String listed;
    try (InputStream in = url.openStream()) {
      listed = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new EmbeddedCassandraException("read the embedded Cassandra classpath from " + url, e);
    }
    for (String entry : listed.split(File.pathSeparator)) {
      if (entry.isBlank()) continue;
      if (!Files.isRegularFile(Path.of(entry))) {
        throw new EmbeddedCassandraException("embedded Cassandra classpath: " + entry
            + " does not exist; rebuild io.berth:persistence-cassandra-server on this machine so Maven resolves its jars");
      }
      entries.add(entry);
    }
    return String.join(File.pathSeparator, entries);
  }

  /** The jar or classes directory that holds the resource. */
  private static Path containerOf(URL url, String resource) {
    try {
      String s = url.toString();
      if (s.startsWith("jar:")) {
        return Path.of(new URL(s.substring(4, s.indexOf("!/"))).toURI());
      }
      Path file = Path.of(url.toURI());
      Path root = file;
      for (int i = 0; i < resource.split("/").length; i++) root = root.getParent();
      return root;
    } catch (URISyntaxException | IOException e) {
      throw new EmbeddedCassandraException("locate the embedded Cassandra server jar from " + url, e);
    }
  }
}
