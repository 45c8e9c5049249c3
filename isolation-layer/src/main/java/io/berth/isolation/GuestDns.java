package io.berth.isolation;

import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The name servers and search domains a host gives its containers, written into each one's {@code /etc/resolv.conf}
 * at its start ({@link GuestFiles}). As Virtuozzo's {@code NAMESERVER="inherit"}, a node takes the host's own by
 * default ({@link #inherit}), less those on the host's loopback, which inside a container would be the container's
 * own. {@link #NONE}: Berth leaves resolv.conf as the container has it.
 *
 * @param nameservers IPv4 or IPv6 literals, at most {@link #MAX_NAMESERVERS}
 * @param search      domain names, at most {@link #MAX_SEARCH}
 */
public record GuestDns(List<String> nameservers, List<String> search) {
  public static final GuestDns NONE = new GuestDns(List.of(), List.of());
  /** glibc's MAXNS: the resolver reads no more than three nameserver lines (resolv.conf(5)). */
  public static final int MAX_NAMESERVERS = 3;
  /** resolv.conf(5)'s historical limit, which musl and older glibc still apply. */
  public static final int MAX_SEARCH = 6;

  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
  private static final Pattern DOMAIN = Pattern.compile("(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");

  public GuestDns {
    nameservers = List.copyOf(nameservers == null ? List.of() : nameservers);
    search = List.copyOf(search == null ? List.of() : search);
    if (nameservers.size() > MAX_NAMESERVERS) {
      throw new InvalidFieldException("nameservers", "must list at most " + MAX_NAMESERVERS + " (the resolver reads no more)", nameservers);
    }
    for (String n : nameservers) {
      if (!IPV4.matcher(n).matches() && !IPV6.matcher(n).matches()) {
        throw new InvalidFieldException("nameservers", "each must be an IPv4 or IPv6 address", n);
      }
    }
    if (search.size() > MAX_SEARCH) throw new InvalidFieldException("search", "must list at most " + MAX_SEARCH + " domains", search);
    for (String d : search) {
      if (!DOMAIN.matcher(d).matches()) throw new InvalidFieldException("search", "each must be a domain name such as example.net", d);
    }
  }

  /** True when Berth writes nothing into the containers' resolv.conf. */
  public boolean none() {
    return nameservers.isEmpty();
  }

  /**
   * The host's own settings from {@code resolvConf} (normally /etc/resolv.conf): its first three name servers not on
   * the loopback, and its search line. {@link #NONE} when the file is missing or names none that a container could
   * reach.
   */
  public static GuestDns inherit(Path resolvConf) {
    List<String> lines;
    try {
      lines = Files.readAllLines(resolvConf);
    } catch (IOException e) {
      return NONE;
    }
    List<String> servers = new ArrayList<>();
    List<String> search = List.of();
    for (String line : lines) {
      String[] words = line.strip().split("\\s+");
      if (words.length >= 2 && words[0].equals("nameserver")) {
        String s = words[1];
        boolean loopback = s.startsWith("127.") || s.equals("::1");
        boolean valid = IPV4.matcher(s).matches() || IPV6.matcher(s).matches();
        if (!loopback && valid && servers.size() < MAX_NAMESERVERS) servers.add(s);
      } else if (words.length >= 2 && (words[0].equals("search") || words[0].equals("domain"))) {
        // The last search or domain line wins (resolv.conf(5)); only the valid ones count.
        search = List.of(words).subList(1, words.length).stream().filter(d -> DOMAIN.matcher(d).matches()).limit(MAX_SEARCH).toList();
      }
    }
    return servers.isEmpty() ? NONE : new GuestDns(servers, search);
  }
}
