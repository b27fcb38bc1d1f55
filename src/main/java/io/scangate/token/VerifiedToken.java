package io.scangate.token;

import io.vertx.core.json.JsonObject;

/** A token whose signature, issuer and structure were checked. {@code kind}: access or id. */
public record VerifiedToken(
    Kind kind,
    String subject,
    String audience,
    String jti,
    long issuedAt,
    long expiresAt,
    String scope,
    JsonObject claims) {

  public enum Kind { ACCESS, ID }
}
