package io.berth.protocol.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.BerthEvent;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The registry is complete (every message class of the protocol, and everything they hold) and its ids are sane. */
class KryoRegistryTest {

  @Test
  void everyConcreteBerthMessageClassIsRegistered() throws Exception {
    Set<String> missing = new TreeSet<>();
    for (Class<?> c : protocolClasses()) {
      if (BerthMessage.class.isAssignableFrom(c) && !c.isInterface() && !Modifier.isAbstract(c.getModifiers())
          && KryoRegistry.byType(c) == null) {
        missing.add(c.getName());
      }
    }
    assertEquals(Set.of(), missing, "BerthMessage classes without a Kryo id: add them to KryoRegistry");
  }

  @Test
  void everyEventIsRegisteredWithItsFormat() {
    for (EventFormat<?> f : BerthEventCodec.allFormats()) {
      assertTrue(KryoRegistry.byType(f.type()) != null, f.type() + " has a format but no Kryo id");
    }
    for (KryoRegistry.Entry e : KryoRegistry.entries()) {
      if (BerthEvent.class.isAssignableFrom(e.type())) {
        assertTrue(BerthEventCodec.allFormats().stream().anyMatch(f -> f.type() == e.type()), e.type() + " has a Kryo id but no EventFormat");
      }
    }
  }

  /** Every class a registered record holds (beyond JDK types the field codecs write) is registered too. */
  @Test
  void everyNestedTypeIsRegistered() {
    Set<String> missing = new TreeSet<>();
    for (KryoRegistry.Entry e : KryoRegistry.entries()) {
      if (!e.type().isRecord() || BerthEvent.class.isAssignableFrom(e.type())) continue;
      for (RecordComponent rc : e.type().getRecordComponents()) {
        for (Class<?> used : classesIn(rc.getGenericType())) {
          if (used.getName().startsWith("io.berth.") && !used.isInterface() && KryoRegistry.byType(used) == null) {
            missing.add(e.type().getSimpleName() + "." + rc.getName() + ": " + used.getName());
          }
          if (used.getName().startsWith("io.berth.") && used.isSealed()) {
            List<Class<?>> leaves = new ArrayList<>();
            Samples.collectLeaves(used, leaves);
            for (Class<?> leaf : leaves) if (KryoRegistry.byType(leaf) == null) missing.add(e.type().getSimpleName() + "." + rc.getName() + ": " + leaf.getName());
          }
        }
      }
    }
    assertEquals(Set.of(), missing);
  }

  @Test
  void idsAreUniqueAboveKryosOwnAndNeverRetired() {
    Set<Integer> seen = new HashSet<>();
    for (KryoRegistry.Entry e : KryoRegistry.entries()) {
      assertTrue(e.id() >= 100, e + " uses an id reserved for Kryo's defaults");
      assertTrue(seen.add(e.id()), "id " + e.id() + " twice");
      assertTrue(!KryoRegistry.RETIRED_IDS.contains(e.id()), "retired id reused: " + e);
    }
    // A Kryo instance registers exactly these ids for these classes.
    BerthKryo kryo = new BerthKryo(ActorRefCodec.none());
    for (KryoRegistry.Entry e : KryoRegistry.entries()) {
      assertEquals(e.id(), kryo.getRegistration(e.type()).getId(), e.type().getName());
    }
  }

  @Test
  void aMessageNameResolvesToItsClass() {
    for (KryoRegistry.Entry e : KryoRegistry.entries()) assertEquals(e, KryoRegistry.byName(KryoRegistry.nameOf(e.type())));
    assertEquals("ContainerCommand.Start", KryoRegistry.nameOf(io.berth.protocol.container.ContainerCommand.Start.class));
  }

  private static Set<Class<?>> classesIn(java.lang.reflect.Type t) {
    Set<Class<?>> out = new HashSet<>();
    if (t instanceof Class<?> c) {
      out.add(c);
    } else if (t instanceof java.lang.reflect.ParameterizedType p) {
      out.add((Class<?>) p.getRawType());
      for (var a : p.getActualTypeArguments()) out.addAll(classesIn(a));
    }
    return out;
  }

  /** Every class compiled from protocol's main sources. */
  private static List<Class<?>> protocolClasses() throws IOException, URISyntaxException, ClassNotFoundException {
    Path root = Path.of(BerthMessage.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> classes = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String name = root.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
        classes.add(Class.forName(name, false, KryoRegistryTest.class.getClassLoader()));
      }
    }
    assertTrue(classes.size() > 20, "found only " + classes.size() + " classes under " + root);
    return classes;
  }
}
