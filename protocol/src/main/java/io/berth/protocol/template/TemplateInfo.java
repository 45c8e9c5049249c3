package io.berth.protocol.template;

import java.time.Instant;

/** A template as one host holds it: its name, content digest, size and when it was imported there. */
public record TemplateInfo(String name, String digest, long bytes, Instant importedAt) {}
