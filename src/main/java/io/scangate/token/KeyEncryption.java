package io.scangate.token;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * Encrypts private signing keys at rest: AES-256-GCM under a key derived from
 * {@code tokens.keyEncryptionKey} with PBKDF2 (the configured value may be a passphrase). The
 * key id is bound in as associated data, so a ciphertext cannot be moved to another key's row.
 */
final class KeyEncryption {

  private static final byte[] SALT = "scangate/signing-keys/v1".getBytes(StandardCharsets.UTF_8);
  private static final int ITERATIONS = 210_000;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;

  private KeyEncryption(SecretKeySpec key) {
    this.key = key;
  }

  /** Under a 256-bit key the caller derived itself. */
  static KeyEncryption of(byte[] key) {
    return new KeyEncryption(new SecretKeySpec(key, "AES"));
  }

  /** PBKDF2 is slow on purpose, so it runs on a worker thread. */
  static Future<KeyEncryption> derive(Vertx vertx, String keyEncryptionKey) {
    return vertx.executeBlocking(() -> derive(keyEncryptionKey), false);
  }

  static KeyEncryption derive(String keyEncryptionKey) throws GeneralSecurityException {
    char[] secret = keyEncryptionKey.toCharArray();
    PBEKeySpec spec = new PBEKeySpec(secret, SALT, ITERATIONS, 256);
    try {
      byte[] derived = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
      return new KeyEncryption(new SecretKeySpec(derived, "AES"));
    } finally {
      spec.clearPassword();
      Arrays.fill(secret, '\0');
    }
  }

  /** {@code nonce || ciphertext || tag}. */
  byte[] encrypt(byte[] plain, String associatedData) throws GeneralSecurityException {
    byte[] nonce = io.scangate.util.Randoms.bytes(NONCE_BYTES);
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
    byte[] sealed = cipher.doFinal(plain);
    return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
  }

  /** Fails with {@link javax.crypto.AEADBadTagException} under another key-encryption key. */
  byte[] decrypt(byte[] stored, String associatedData) throws GeneralSecurityException {
    if (stored.length <= NONCE_BYTES) throw new GeneralSecurityException("sealed key is too short");
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, stored, 0, NONCE_BYTES));
    cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
    return cipher.doFinal(stored, NONCE_BYTES, stored.length - NONCE_BYTES);
  }
}
