/**
 * Moving a migration's files from the source node to the target node: CRIU image files (whole) and the container's
 * disk image (a sparse ext4 file, sent as its data extents: every extent while the container runs, then only what
 * changed once it is frozen), over Pekko Streams TCP.
 *
 * <h2>Shape</h2>
 * The target binds a {@link io.berth.node.migration.transfer.TransferReceiver} (an ephemeral port, a directory, the
 * migration's token) and tells the source where it listens. The source sends <em>rounds</em> with
 * {@link io.berth.node.migration.transfer.TransferSender#send}: one connection each, one at a time, each ending with
 * the receiver's ACK, e.g. round 1 the disk image (pre-copy), round 2 after the freeze the CRIU images and the disk
 * image's delta (the same {@link io.berth.node.migration.transfer.DiskImageSync} in both). Each side gets a
 * {@link io.berth.node.migration.transfer.RoundReport}.
 *
 * <h2>Frames</h2>
 * Every frame is {@code type:u8 length:u32 payload[length]}, big-endian (Pekko's {@code Framing.lengthField(4, 1,
 * ...)}), at most 262,157 bytes (a DATA frame's header and 256 KiB). Sender to receiver:
 * <table>
 * <caption>frames</caption>
 * <tr><th>type</th><th>name</th><th>payload</th></tr>
 * <tr><td>1</td><td>HELLO</td><td>{@code "BERTHXFR"}, version u16 (1), the token (UTF-8, the rest)</td></tr>
 * <tr><td>2</td><td>BEGIN</td><td>kind u8 (1 whole file, 2 image first round, 3 image later round), size i64,
 *     image id (16 bytes; zero for a whole file), the plain file name (UTF-8, the rest)</td></tr>
 * <tr><td>3</td><td>DATA</td><td>offset i64, the bytes (at most 256 KiB; less under a low bandwidth limit)</td></tr>
 * <tr><td>4</td><td>PUNCH</td><td>offset i64, length i64: free that range (an image's later round)</td></tr>
 * <tr><td>5</td><td>END_FILE</td><td>data bytes i64, SHA-256 (32 bytes) of the file's frames</td></tr>
 * <tr><td>6</td><td>END_ROUND</td><td>file count u32</td></tr>
 * </table>
 * Receiver to sender, one frame per round: {@code 16 ACK} (round u32, files u32, data bytes i64, SHA-256) or
 * {@code 17 ERROR} (a sentence, UTF-8). A round is {@code HELLO (BEGIN (DATA|PUNCH)* END_FILE)* END_ROUND}; a whole
 * file's DATA frames come in order and add up to its size; an image's may come in any order within its size.
 *
 * <h2>Checks</h2>
 * <ul>
 *   <li>A file's digest is SHA-256 over its frames as they go on the wire, BEGIN (kind, size, id, name) to its last
 *       DATA or PUNCH (offsets included). The receiver computes it over what it received and compares it with the
 *       END_FILE's: a mismatch is an ERROR naming the file and both values.
 *   <li>The round's digest is SHA-256 over its END_FILE frames. The receiver's ACK carries its round number, file
 *       count, data bytes and that digest; the sender fails the round unless all equal its own (the message shows
 *       both). The ACK is sent after each file was fdatasync'ed: acknowledged data is on the target's disk.
 *   <li>A connection must present the token first (compared in constant time); one that does not, or that comes
 *       while a round is under way, gets an ERROR, is logged, writes nothing and is not a round. The token is the
 *       migration's own secret, not TLS: the transfer is meant for the management network, where the cluster port
 *       is; a TLS variant ({@code Tcp.bindWithTls}) would wrap the same flows.
 *   <li>Names are plain file names (1-255 bytes, no {@code /} or NUL, not {@code .} or {@code ..}), checked by
 *       both sides; files are opened without following a link ({@code O_NOFOLLOW}, replaced files are unlinked
 *       first) and made mode 0600.
 * </ul>
 *
 * <h2>Flow, bounds and failures</h2>
 * The sender reads files as the connection pulls frames (an {@code unfoldResource} on the blocking-I/O dispatcher),
 * the receiver writes each frame before it pulls the next (also on that dispatcher): backpressure runs from the
 * receiver's disk back to the sender's reads, and a few frames per side are in memory, never a file. A bandwidth
 * limit is a {@code throttle} on the frames. Every wait is bounded: the sender's connect and any stretch without a
 * byte either way ({@code timeout}, the ACK's wait included), the receiver's connections ({@code idleTimeout}).
 * A broken connection, a timeout, a refusal or a mismatch fails the round on both sides with a
 * {@link io.berth.node.migration.transfer.TransferException} naming the peer, the round, the file and the offset
 * (the sender's offset is how far it had read, ahead of what arrived by the buffers in between). The receiver
 * leaves the files a failed round wrote where they are: they are the caller's to delete with the directory
 * (a disk image's next round may still build on them; see {@link io.berth.node.migration.transfer.DiskImageSync}
 * for how a failed round is made good).
 */
package io.berth.node.migration.transfer;
