package io.berth.isolation;

import io.berth.isolation.disk.DiskException;
import io.berth.isolation.disk.Ext4;
import io.berth.isolation.disk.LoopDevices;
import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.isolation.store.ContainerStore;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A container's disk, as Virtuozzo's ploop: its writable layer is an ext4 filesystem in a sparse image
 * file of its own ({@code <imagesRoot>/<id>.img}), loop-mounted at {@code containers/<id>/layer}, where the
 * overlay's {@code upper} and {@code work} live. The image's size is the disk limit, so the limit is
 * enforced by the filesystem itself (ENOSPC inside, nothing on the host); the layer is one file to send
 * when the container moves; and the images root may be shared storage.
 *
 * <p>Next to each image, {@code <id>.owner} names the layer holding it (machine id and data root). On
 * shared storage the image of a container that moved is adopted in place by the target, which then owns
 * it: a later destroy on the source leaves it alone.
 */
final class ContainerDisk {
  private static final Logger LOG = LoggerFactory.getLogger(ContainerDisk.class);
  /** The least image Berth makes or adopts: below it the journal and tables leave little room (README "Disk images"). */
  static final long MIN_BYTES = 16L << 20;
  /**
   * Not nodev (the layer's /dev holds the container's device nodes) and not nosuid (its setuid programs are
   * its own business). discard: a file deleted inside punches a hole in the image, which stays thin.
   * errors=remount-ro: an I/O error (the images root full, as thin images allow) stops writes before the
   * filesystem is damaged.
   */
  private static final String MOUNT_OPTIONS = "discard,errors=remount-ro";
  private static final long DETACH_WAIT_NANOS = 5_000_000_000L;
  private static final byte[] EXT_MAGIC = {(byte) 0x53, (byte) 0xEF};

  private final ContainerStore store;
  private final Path imagesRoot;
  private final long defaultBytes;
  private final String owner;

  ContainerDisk(ContainerStore store, Path imagesRoot, long defaultBytes, Path dataRoot) {
    this.store = store;
    this.imagesRoot = imagesRoot;
    this.defaultBytes = defaultBytes;
    this.owner = machineId() + ":" + dataRoot;
  }

  /** Where this layer puts the image of a new container. */
  Path imageFor(ContainerId id) {
    return imagesRoot.resolve(id.value() + ".img");
  }

  Path imagesRoot() {
    return imagesRoot;
  }

  /** Whether {@code image} is where this root keeps {@code id}'s image (so adopting it is in place). */
  boolean holds(ContainerId id, Path image) {
    return samePath(image, imageFor(id));
  }

  /** The image size a limit asks for: the limit rounded up to whole blocks, or the default size for 0 (no limit named). */
  long bytesFor(Limits limits) {
    long b = limits.diskBytes() == 0 ? defaultBytes : limits.diskBytes();
    return (b + Ext4.BLOCK_SIZE - 1) / Ext4.BLOCK_SIZE * Ext4.BLOCK_SIZE;
  }

  /** What the images root can give now (statvfs f_bavail). */
  long freeBytes() {
    try {
      return imagesStore().getUsableSpace();
    } catch (IOException e) {
      throw new UncheckedIOException("statvfs " + imagesRoot, e);
    }
  }

  /** The filesystem of the images root, also before its directory exists (validation makes nothing). */
  private java.nio.file.FileStore imagesStore() throws IOException {
    Path p = imagesRoot;
    while (!Files.exists(p) && p.getParent() != null) p = p.getParent();
    return Files.getFileStore(p);
  }

  // ---- make, adopt, delete ------------------------------------------------------------------

  /**
   * A new sparse image of {@code bytes}, never over an existing file, with mke2fs started on it: the caller
   * goes on with other steps and awaits the returned {@link Ext4.Formatting} before it mounts the image.
   */
  Ext4.Formatting create(ContainerId id, Path image, long bytes, Reverter revert) throws IOException {
    Files.createDirectories(imagesRoot);
    Files.createFile(image); // CREATE_NEW: an image already there (another host's, on shared storage) is never touched
    revert.add(() -> deleteQuietly(image));
    setLength(image, bytes);
    writeOwner(id, revert);
    Ext4.Formatting mkfs = Ext4.startFormat(image);
    revert.add(() -> mkfs.mkfs().await()); // no mke2fs outlives a failed prepare (its result does not matter then)
    return mkfs;
  }

  /**
   * Takes an existing image as the container's disk: in place when it is already where this layer keeps it
   * (shared storage), else renamed there (same filesystem, checked first). Undone by renaming it back and
   * restoring the previous owner: a failed prepare never loses an adopted image. Returns where it now is.
   */
  Path adopt(ContainerId id, Path from, Reverter revert) throws IOException {
    Path image = imageFor(id);
    if (!samePath(from, image)) {
      Files.createDirectories(imagesRoot);
      Files.move(from, image, StandardCopyOption.ATOMIC_MOVE);
      revert.add(() -> {
        try {
          Files.move(image, from, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          throw new UncheckedIOException("give back adopted disk image " + image + " to " + from, e);
        }
      });
    }
    writeOwner(id, revert);
    return image;
  }

  /**
   * Why {@code from} cannot be adopted as {@code id}'s disk, or empty: a regular file holding an ext4 of at
   * least {@link #MIN_BYTES}, attached to no loop device of this kernel, on the images root's filesystem,
   * and no other image in the place it must go. Reads only.
   */
  Optional<String> refusesAdoption(ContainerId id, Path from) {
    try {
      if (!Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) return Optional.of("must be a regular file (not a link)");
      if (Files.size(from) < MIN_BYTES) return Optional.of("must be at least 16M");
      try (RandomAccessFile f = new RandomAccessFile(from.toFile(), "r")) {
        byte[] magic = new byte[2];
        f.seek(1080); // ext2/3/4 superblock at 1024, s_magic at offset 56
        f.readFully(magic);
        if (magic[0] != EXT_MAGIC[0] || magic[1] != EXT_MAGIC[1]) return Optional.of("must hold an ext4 filesystem");
      }
      List<String> users = LoopDevices.referencing(from);
      if (!users.isEmpty()) return Optional.of("must not be in use (it is attached to " + String.join(", ", users) + ")");
      Path image = imageFor(id);
      if (!samePath(from, image)) {
        if (Files.exists(image, LinkOption.NOFOLLOW_LINKS)) return Optional.of("cannot go to " + image + ": another image is there");
        if (!Files.getFileStore(from).equals(imagesStore())) {
          return Optional.of("must be on the filesystem of the images root " + imagesRoot + " (it is renamed there, not copied)");
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("cannot be read: " + e.getMessage());
    }
  }

  /** Who holds the image at this place, when an owner file says so. */
  Optional<String> ownerOf(ContainerId id) {
    try {
      Path f = ownerFile(imageFor(id));
      return Files.exists(f) ? Optional.of(Files.readString(f).strip()) : Optional.empty();
    } catch (IOException e) {
      return Optional.of("(unreadable: " + e.getMessage() + ")");
    }
  }

  /**
   * Deletes the image and its owner file, unless another layer has taken the image over (its owner file
   * names that one): then it stays for its new holder. Any loop device still on it is detached first.
   */
  void delete(ContainerId id, Path image) {
    Path ownerFile = ownerFile(image);
    Optional<String> holder = readOwner(ownerFile);
    if (holder.isPresent() && !holder.get().equals(owner)) {
      LOG.info("disk image {} of container={} is held by {} now: left in place", image, id, holder.get());
      return;
    }
    for (String dev : LoopDevices.referencing(image)) LoopDevices.detach(dev);
    deleteQuietly(image);
    deleteQuietly(ownerFile);
  }

  /**
   * Detaches every loop device still on the image (one in use is marked autoclear and goes with its last user) and
   * leaves the file and its owner file as they are: for a container forgotten here whose image another host holds.
   */
  void detach(Path image) {
    for (String dev : LoopDevices.referencing(image)) LoopDevices.detach(dev);
  }

  // ---- mount, unmount -----------------------------------------------------------------------

  /**
   * Mounts the image at {@code layer(id)}: on the loop device already attached to it if there is one (the
   * kernel's live filesystem on it, e.g. left by a lazy unmount: mounting another device of the same file
   * would run two filesystems on one image), else on a new autoclear one.
   */
  void mount(ContainerId id, Path image, Reverter revert) throws IOException {
    Optional<String> attached = LoopDevices.find(image);
    if (attached.isPresent()) {
      Files.createDirectories(store.layer(id));
      Syscalls.mount(attached.get(), store.layer(id).toString(), "ext4", 0, MOUNT_OPTIONS);
      revert.add(() -> unmount(id));
    } else {
      mountNew(id, image, revert);
    }
  }

  /**
   * Mounts an image made by this prepare on a new autoclear loop device: no device can hold a file made a moment
   * ago, so the scan of every loop device on the host that {@link #mount} needs (a read per container here) is
   * skipped.
   */
  void mountNew(ContainerId id, Path image, Reverter revert) throws IOException {
    Path layer = store.layer(id);
    Files.createDirectories(layer);
    try (LoopDevices.Attached dev = LoopDevices.attach(image)) {
      Syscalls.mount(dev.device(), layer.toString(), "ext4", 0, MOUNT_OPTIONS);
    }
    revert.add(() -> unmount(id));
  }

  boolean isMounted(ContainerId id) {
    return Rootfs.isMountPoint(store.layer(id));
  }

  /** Unmounts the layer (lazily when busy: the loop device then goes with its last user). Idempotent. */
  void unmount(ContainerId id) {
    Rootfs.unmount(store.layer(id));
  }

  /**
   * Unmounts the layer for an offline resize: strictly (busy is an error, never a lazy detach), then waits
   * until no loop device holds the image, i.e. the kernel has closed the filesystem. Only then may a tool
   * write the file.
   */
  void unmountClosed(ContainerId id, Path image) {
    Path layer = store.layer(id);
    if (Rootfs.isMountPoint(layer)) {
      try {
        Syscalls.umount2(layer.toString(), 0);
      } catch (SyscallException e) {
        throw new DiskException("unmount " + layer + " to resize it: " + e.getMessage() + " (something still uses the container's files)");
      }
    }
    for (String dev : LoopDevices.referencing(image)) LoopDevices.detach(dev);
    long deadline = System.nanoTime() + DETACH_WAIT_NANOS;
    while (!LoopDevices.referencing(image).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new DiskException("disk image " + image + " still in use by " + LoopDevices.referencing(image) + " after its unmount");
      }
      sleep();
    }
  }

  // ---- size ---------------------------------------------------------------------------------

  long size(Path image) {
    try {
      return Files.size(image);
    } catch (IOException e) {
      throw new UncheckedIOException("stat " + image, e);
    }
  }

  /** What the mounted layer holds (files and the filesystem's own structures): no smaller image can hold it. */
  long bytesInUse(ContainerId id, Path image) {
    return Ext4.bytesInUse(store.layer(id), size(image));
  }

  /**
   * Grows the mounted image to {@code bytes}: the file (sparse), the loop device's size, then the kernel's
   * online resize. The file is put back if the kernel refuses.
   */
  void growMounted(ContainerId id, Path image, long bytes) {
    long old = size(image);
    String dev = LoopDevices.find(image).orElseThrow(() -> new DiskException("no loop device holds " + image));
    setLength(image, bytes);
    try {
      LoopDevices.refreshCapacity(dev);
      Ext4.growMounted(store.layer(id), bytes);
    } catch (RuntimeException e) {
      try {
        setLength(image, old);
        LoopDevices.refreshCapacity(dev);
      } catch (RuntimeException undo) {
        e.addSuppressed(undo);
      }
      throw e;
    }
  }

  /** Resizes an unmounted (closed) image: e2fsck, then resize2fs after the file grew or before it shrinks. */
  void resizeUnmounted(Path image, long bytes) {
    long old = size(image);
    Ext4.check(image);
    if (bytes > old) {
      setLength(image, bytes);
      Ext4.resizeUnmounted(image, bytes);
    } else {
      Ext4.resizeUnmounted(image, bytes);
      setLength(image, bytes);
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private void writeOwner(ContainerId id, Reverter revert) throws IOException {
    Path f = ownerFile(imageFor(id));
    Optional<String> before = readOwner(f);
    Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
    Files.writeString(tmp, owner + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    revert.add(() -> {
      try {
        if (before.isPresent()) Files.writeString(f, before.get() + "\n", StandardCharsets.UTF_8);
        else Files.deleteIfExists(f);
      } catch (IOException e) {
        throw new UncheckedIOException("restore " + f, e);
      }
    });
  }

  private static Path ownerFile(Path image) {
    String name = image.getFileName().toString();
    return image.resolveSibling((name.endsWith(".img") ? name.substring(0, name.length() - 4) : name) + ".owner");
  }

  private static Optional<String> readOwner(Path f) {
    try {
      return Files.exists(f) ? Optional.of(Files.readString(f).strip()) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("read " + f, e);
    }
  }

  /** ftruncate(2): growing leaves a hole (nothing allocated), shrinking frees the tail. */
  private static void setLength(Path image, long bytes) {
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("set the size of " + image + " to " + bytes, e);
    }
  }

  private static boolean samePath(Path a, Path b) {
    return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("remove " + p, e);
    }
  }

  private static String machineId() {
    try {
      return Files.readString(Path.of("/etc/machine-id")).strip();
    } catch (IOException e) {
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.net.UnknownHostException u) {
        return "unknown-host";
      }
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
