package io.berth.node.migration.transfer;

import io.berth.protocol.InvalidFieldException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** One file a round sends: a regular file whole, or a sparse disk image as its data extents ({@link DiskImageSync}). */
public sealed interface TransferItem {
  /** The plain file name it gets in the receiver's directory. */
  String name();

  /** A regular file (a CRIU image, say), sent whole under its own file name. */
  static TransferItem file(Path path) {
    InvalidFieldException.required("path", path);
    Path name = path.getFileName();
    if (name == null) throw new InvalidFieldException("path", "must name a file", path);
    return new RegularFile(path, name.toString());
  }

  /** A regular file sent whole under {@code name}. */
  static TransferItem file(Path path, String name) {
    return new RegularFile(path, name);
  }

  /** A sparse disk image: its first round sends every data extent, later ones what changed (see {@link DiskImageSync}). */
  static TransferItem diskImage(DiskImageSync sync) {
    return new DiskImage(sync);
  }

  record RegularFile(Path path, String name) implements TransferItem {
    public RegularFile {
      InvalidFieldException.required("path", path);
      checkName("name", name);
    }
  }

  record DiskImage(DiskImageSync sync) implements TransferItem {
    public DiskImage {
      InvalidFieldException.required("sync", sync);
    }

    @Override
    public String name() {
      return sync.name();
    }
  }

  /**
   * A name the receiver writes under its directory, and nothing else: 1 to 255 bytes of UTF-8, no {@code /}, no
   * NUL, not {@code .} or {@code ..}. Both sides check it (the receiver never trusts the sender's check).
   */
  static String checkName(String field, String name) {
    InvalidFieldException.required(field, name);
    int bytes = name.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > 255 || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
      throw new InvalidFieldException(field, "must be a plain file name (1-255 bytes, no '/' or NUL, not '.' or '..')", name);
    }
    return name;
  }
}
