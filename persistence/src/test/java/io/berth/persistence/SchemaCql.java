package io.berth.persistence;

import java.util.List;

/** The text of schema.cql: a header, then each statement ending in a semicolon. */
final class SchemaCql {
  private SchemaCql() {}

  static String render(List<String> statements) {
    StringBuilder b = new StringBuilder();
    b.append("-- Berth's Cassandra schema for the default settings (keyspaces berth_journal and berth_snapshot,\n")
        .append("-- SimpleStrategy with replication factor 1: the embedded node).\n")
        .append("-- Use it when berth.persistence.create-schema-at-start = off. For production replace each keyspace's\n")
        .append("-- replication with {'class': 'NetworkTopologyStrategy', '<your dc>': 3}; keyspace names must match\n")
        .append("-- berth.persistence.keyspaces. Generated from pekko-persistence-cassandra's own statements\n")
        .append("-- (CassandraSchemaTest fails when they differ).\n\n");
    for (String s : statements) b.append(s.strip()).append(";\n\n");
    return b.toString();
  }
}
