package io.berth.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Adds to the root only the command group (and verb) the arguments name, or all of them when they name none
 * (help, a typo). picocli builds each command's model by reflection over its annotations, and its classes are
 * Java 5 class files that class-data sharing cannot archive: building all 25 commands for every run cost about a
 * third of the CLI's start-up here, building one costs little.
 */
final class Subcommands {
  /** The groups, each with its verbs (an empty array: the group is a verb itself or carries its own subcommands). */
  private static final Class<?>[] GROUPS = {StatusCommand.class, HostCommand.class, ContainerCommand.class, TemplateCommand.class,
      TokenCommand.class, AuditCommand.class, EventsCommand.class};
  /** Global options that take a value, to skip when looking for the words. */
  private static final Set<String> VALUED = Set.of("--output", "--api", "--reason", "--token", "--ca", "--cert", "--key");

  private Subcommands() {}

  static void add(CommandLine root, String[] args) {
    List<String> words = words(args);
    String groupWord = words.isEmpty() ? null : words.get(0);
    String verbWord = words.size() < 2 ? null : words.get(1);
    boolean anyGroup = false;
    for (Class<?> g : GROUPS) anyGroup |= names(g).contains(groupWord);
    for (Class<?> g : GROUPS) {
      if (anyGroup && !names(g).contains(groupWord)) continue;
      CommandLine group = new CommandLine(instantiate(g));
      Class<?>[] verbs = verbs(g);
      boolean anyVerb = false;
      for (Class<?> v : verbs) anyVerb |= names(v).contains(verbWord);
      for (Class<?> v : verbs) {
        if (anyVerb && !names(v).contains(verbWord)) continue;
        group.addSubcommand(new CommandLine(instantiate(v)));
      }
      root.addSubcommand(group);
    }
  }

  /** The words of the command line before any option of a verb: global options and their values skipped. */
  private static List<String> words(String[] args) {
    List<String> words = new ArrayList<>();
    for (int i = 0; i < args.length && words.size() < 2; i++) {
      String a = args[i];
      if (a.equals("--")) break;
      if (a.startsWith("-")) {
        if (VALUED.contains(a)) i++;
        continue;
      }
      words.add(a);
    }
    return words;
  }

  private static List<String> names(Class<?> c) {
    Command cmd = c.getAnnotation(Command.class);
    List<String> names = new ArrayList<>(List.of(cmd.aliases()));
    names.add(cmd.name());
    return names;
  }

  private static Class<?>[] verbs(Class<?> group) {
    if (group == HostCommand.class) return HostCommand.VERBS;
    if (group == ContainerCommand.class) return ContainerCommand.VERBS;
    if (group == TemplateCommand.class) return TemplateCommand.VERBS;
    if (group == TokenCommand.class) return TokenCommand.VERBS;
    return new Class<?>[0];
  }

  private static Object instantiate(Class<?> c) {
    try {
      var ctor = c.getDeclaredConstructor();
      ctor.setAccessible(true);
      return ctor.newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("make command " + c.getSimpleName(), e);
    }
  }
}
