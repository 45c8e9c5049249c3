package io.berth.cli;

import io.berth.pem.PemFiles;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManager;

/** The CLI's client certificate and key ({@code --cert}/{@code --key}, else {@code $BERTH_CERT}/{@code $BERTH_KEY}). */
record ClientIdentity(List<X509Certificate> chain, PrivateKey key) {

  /** The identity named by the flags or the environment, or null for none; a bad file is a usage failure naming it. */
  static ClientIdentity resolve(String certFlag, String keyFlag, Map<String, String> env) {
    boolean flags = certFlag != null && !certFlag.isBlank() || keyFlag != null && !keyFlag.isBlank();
    String cert = flags ? certFlag : env.get("BERTH_CERT");
    String key = flags ? keyFlag : env.get("BERTH_KEY");
    String certSource = flags ? "--cert" : "BERTH_CERT";
    String keySource = flags ? "--key" : "BERTH_KEY";
    boolean noCert = cert == null || cert.isBlank();
    boolean noKey = key == null || key.isBlank();
    if (noCert && noKey) return null;
    if (noCert || noKey) throw CliFailure.usage((noCert ? certSource : keySource) + ": must be given with " + (noCert ? keySource : certSource));
    List<X509Certificate> chain;
    try {
      chain = PemFiles.certificates(Path.of(cert));
    } catch (PemFiles.BadPem e) {
      throw CliFailure.usage(certSource + ": " + cert + " " + e.getMessage());
    }
    try {
      PrivateKey k = PemFiles.privateKey(Path.of(key));
      PemFiles.keyManagers(chain, k); // a key that is not the certificate's is refused now, not in the handshake
      return new ClientIdentity(chain, k);
    } catch (PemFiles.BadPem e) {
      throw CliFailure.usage(keySource + ": " + key + " " + e.getMessage());
    }
  }

  KeyManager[] keyManagers() {
    try {
      return PemFiles.keyManagers(chain, key);
    } catch (PemFiles.BadPem e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
