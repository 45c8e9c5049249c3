package io.berth.protocol;

/**
 * Everything Berth sends between nodes or stores in the journal. Pekko binds the Berth serializer to
 * this interface (see reference.conf), so a message that does not implement it fails loudly instead of
 * falling back to Java serialization.
 */
public interface BerthMessage {}
