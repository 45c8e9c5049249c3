package io.berth.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth ct create NAME --template T [...] [-- CMD ARGS...]}. */
@Command(name = "create", description = "Define a container (and start it with --start). Its init is CMD ARGS, or the template's /bin/sh.")
final class ContainerCreate extends Verb {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Parameters(index = "1..*", paramLabel = "CMD", description = "after --: the init's argv")
  List<String> command;

  @Option(names = "--template", required = true, paramLabel = "T")
  String template;

  @Option(names = "--memory", paramLabel = "SIZE", description = "e.g. 64M (default 256M)")
  String memory;

  @Option(names = "--cpus", paramLabel = "CPUS", description = "cpu cap: cores (0.5) or millicores (500m); default 1")
  String cpus;

  @Option(names = "--pids", paramLabel = "N", description = "default 512")
  String pids;

  @Option(names = "--cpu-weight", paramLabel = "N", description = "its share of contended cpu, 1-10000; default 100")
  String cpuWeight;

  @Option(names = "--cpu-guarantee", paramLabel = "CPUS", description = "cpu placement reserves for it, at most --cpus; default none")
  String cpuGuarantee;

  @Option(names = "--memory-guarantee", paramLabel = "SIZE", description = "memory placement reserves for it, at most --memory; default 16M")
  String memoryGuarantee;

  @Option(names = "--disk", paramLabel = "SIZE", description = "writable layer size (its own ext4 image, enforced); default the host's, 10G")
  String disk;

  @Option(names = "--host", paramLabel = "H", description = "run only on this host")
  String host;

  @Option(names = "--label", paramLabel = "k=v", description = "a label of the container (repeatable)")
  List<String> labels;

  @Option(names = "--host-label", paramLabel = "k=v", description = "run only on hosts with this label (repeatable)")
  List<String> hostLabels;

  @Option(names = "--anti-affinity", paramLabel = "GROUP", description = "spread containers of GROUP over distinct hosts")
  String antiAffinity;

  @Option(names = "--restart", paramLabel = "always|on-failure|never", description = "default never")
  String restart;

  @Option(names = "--hostname", paramLabel = "H", description = "default NAME")
  String hostname;

  @Option(names = "--start", description = "start it once defined")
  boolean start;

  @Option(names = "--privileged", description = "no user namespace and no confinement: root inside is root on the host "
      + "(for trusted system work only; shown in ct show and recorded in the log)")
  boolean privileged;

  @Option(names = "--storage", paramLabel = "local|shared", description = "where its disk image lives: local (default; lost with "
      + "its host) or shared (a directory every host mounts: restarted elsewhere when its host dies)")
  String storage;

  @Option(names = "--ha-priority", paramLabel = "N", description = "0-1000, default 0: a dead host's containers are restarted "
      + "elsewhere highest first")
  Integer haPriority;

  @Option(names = "--checkpoint-every", paramLabel = "DURATION|off", description = "with --storage shared: its host checkpoints it "
      + "this often while it runs (10s to 24h: 30s, 5m; off by default), and a failover restores the latest one")
  String checkpointEvery;

  @Override
  int execute() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("name", name);
    body.put("template", template);
    if (hostname != null) body.put("hostname", hostname);
    if (command != null && !command.isEmpty()) body.put("command", command);
    Map<String, Object> limits = ApiClient.map("cpu", cpus, "memory", memory, "pids", pids, "disk", disk, "cpuWeight", cpuWeight,
        "cpuGuarantee", cpuGuarantee, "memoryGuarantee", memoryGuarantee);
    if (!limits.isEmpty()) body.put("limits", limits);
    if (restart != null) body.put("restart", restart);
    Map<String, Object> l = ContainerCommand.pairs("--label", labels);
    if (!l.isEmpty()) body.put("labels", l);
    Map<String, Object> placement = ApiClient.map("host", host, "antiAffinityGroup", antiAffinity);
    Map<String, Object> hl = ContainerCommand.pairs("--host-label", hostLabels);
    if (!hl.isEmpty()) placement.put("hostLabels", hl);
    if (!placement.isEmpty()) body.put("placement", placement);
    if (start) body.put("start", true);
    if (privileged) body.put("privileged", true);
    if (storage != null) body.put("storage", storage);
    if (haPriority != null) body.put("haPriority", haPriority);
    if (checkpointEvery != null) body.put("checkpointEvery", ContainerCommand.checkpointEvery(checkpointEvery));
    return ContainerCommand.printed(this, withProgress("container " + name + (start ? " to be created and started" : " to be created"),
        () -> api().send("POST", "/v1/containers", body, "container " + name)));
  }
}
