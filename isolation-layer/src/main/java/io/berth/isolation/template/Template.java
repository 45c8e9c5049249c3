package io.berth.isolation.template;

import java.nio.file.Path;

/**
 * An imported template: its content digest ({@code sha256:<hex>}), the directory holding the
 * root filesystem (read-only by convention: it is only ever an overlay's lower layer).
 */
public record Template(String digest, Path rootfs) {
  public String hex() {
    return digest.substring("sha256:".length());
  }
}
