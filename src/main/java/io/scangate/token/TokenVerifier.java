package io.scangate.token;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.util.Base64URL;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;

/**
 * Checks our JWTs from memory only: keys from the {@link KeyRing}, revocations from the local
 * {@link Revocations} view. A token whose signature was checked once is remembered (bounded
 * cache), so repeats skip the signature work; expiry, audience and revocation are checked every time.
 */
public final class TokenVerifier {

  static final String ACCESS_TYP = "at+jwt";
  static final String ID_TYP = "JWT";
  /** Tolerated clock difference between instances, in seconds. */
  static final long LEEWAY_SECONDS = 30;
  private static final String ACCEPTED = String.join(", ",
      java.util.Arrays.stream(SigningAlgorithm.values()).map(a -> a.jose).toList());

  private final Vertx vertx;
  private final ScanGateConfig config;
  private final KeyRing keys;
  private final Revocations revocations;
  private static final java.util.Base64.Decoder URL_DECODER = java.util.Base64.getUrlDecoder();
  private final Cache<String, VerifiedToken> verified = Caffeine.newBuilder()
      .maximumSize(100_000)
      .expireAfterWrite(Duration.ofMinutes(10))
      .build();

  TokenVerifier(Vertx vertx, ScanGateConfig config, KeyRing keys, Revocations revocations) {
    this.vertx = vertx;
    this.config = config;
    this.keys = keys;
    this.revocations = revocations;
  }

  /**
   * An access token that is valid now, for {@code requiredAudience} when not null. A token seen
   * before is answered from memory on the caller's event loop; a new RS256 one is checked there
   * too, a new ES256 or EdDSA one on a worker thread (see {@link Parsed#cheapToVerify}), reloading the
   * keys (rate-limited) only when its kid is unknown.
   */
  public Future<VerifiedToken> verifyAccess(String token, String requiredAudience) {
    VerifiedToken cached = token == null ? null : verified.getIfPresent(token);
    if (cached != null) {
      // The hot path of /auth/verify: no I/O, no extra future stage.
      try {
        return Future.succeededFuture(checkAccess(cached, requiredAudience));
      } catch (InvalidTokenException e) {
        return Future.failedFuture(e);
      }
    }
    return signed(token).compose(t -> {
      try {
        return Future.succeededFuture(checkAccess(t, requiredAudience));
      } catch (InvalidTokenException e) {
        return Future.failedFuture(e);
      }
    });
  }

  /** An id token of ours that is valid now (signature, issuer, type, expiry); for token-validation calls. */
  public Future<VerifiedToken> verifyId(String token) {
    return signed(token).compose(t -> {
      try {
        if (t.kind() != VerifiedToken.Kind.ID) throw new InvalidTokenException("token is an access token, not an id token");
        checkCurrent(t);
        return Future.succeededFuture(t);
      } catch (InvalidTokenException e) {
        return Future.failedFuture(e);
      }
    });
  }

  /**
   * Any of our tokens (access or id) with a valid signature and issuer, expired or not: what
   * introspection and revocation look at before their own checks.
   */
  Future<VerifiedToken> verifySignature(String token) {
    return signed(token);
  }

  private Future<VerifiedToken> signed(String token) {
    VerifiedToken cached = token == null ? null : verified.getIfPresent(token);
    if (cached != null) return Future.succeededFuture(cached);
    return checkSignature(token).recover(e -> e instanceof UnknownKidException
        ? keys.reloadForUnknownKid().recover(ignored -> Future.succeededFuture()).compose(v -> checkSignature(token))
        : Future.failedFuture(e));
  }

  private Future<VerifiedToken> checkSignature(String token) {
    Parsed parsed;
    try {
      parsed = parse(token);
    } catch (InvalidTokenException e) {
      return Future.failedFuture(e);
    }
    if (parsed.cheapToVerify()) {
      try {
        return Future.succeededFuture(remember(token, verify(parsed)));
      } catch (InvalidTokenException e) {
        return Future.failedFuture(e);
      }
    }
    return vertx.executeBlocking(() -> remember(token, verify(parsed)), false);
  }

  boolean isRevoked(VerifiedToken token) {
    return revocations.isRevoked(token);
  }

  /** The synchronous form of {@link #verifyAccess}, signature check included (for benchmarks and tests). */
  VerifiedToken verifyAccessNow(String token, String requiredAudience) throws InvalidTokenException {
    return checkAccess(verifySigned(token), requiredAudience);
  }

  /** Type, expiry, audience and revocation of a token whose signature is already checked. */
  private VerifiedToken checkAccess(VerifiedToken t, String requiredAudience) throws InvalidTokenException {
    if (t.kind() != VerifiedToken.Kind.ACCESS) {
      throw new InvalidTokenException("token is an id token, not an access token");
    }
    checkCurrent(t);
    if (requiredAudience != null && !requiredAudience.equals(t.audience())) {
      throw new InvalidTokenException("token audience is " + t.audience() + ", not " + shown(requiredAudience));
    }
    if (revocations.isRevoked(t)) throw new InvalidTokenException("token has been revoked");
    return t;
  }

  /** Expiry and not-before, against the clock now. */
  static void checkCurrent(VerifiedToken t) throws InvalidTokenException {
    long now = System.currentTimeMillis() / 1000;
    if (t.expiresAt() + LEEWAY_SECONDS <= now) throw new InvalidTokenException("token has expired");
    if (t.issuedAt() - LEEWAY_SECONDS > now) throw new InvalidTokenException("token is not valid yet (issued in the future)");
    Long nbf = t.claims().getValue("nbf") instanceof Number n ? n.longValue() : null;
    if (nbf != null && nbf - LEEWAY_SECONDS > now) throw new InvalidTokenException("token is not valid yet (nbf)");
  }

  /** Signature, algorithm, kid, issuer, type and required claims; not expiry or revocation. */
  VerifiedToken verifySigned(String token) throws InvalidTokenException {
    if (token == null || token.isEmpty()) throw new InvalidTokenException("no bearer token");
    VerifiedToken cached = verified.getIfPresent(token);
    if (cached != null) return cached;
    return remember(token, verify(parse(token)));
  }

  private VerifiedToken remember(String token, VerifiedToken checked) {
    verified.put(token, checked);
    return checked;
  }

  /**
   * A token split into its parts, its header parsed once and checked against the allow-list, and
   * its key found: everything before the signature check, which may then run elsewhere.
   */
  private record Parsed(String token, int payloadStart, int signatureStart, JWSHeader header, SigningKey key) {
    /**
     * Whether the signature check may run on the event loop: RS256 verification is one RSA
     * public-key operation, tens of microseconds (bench/jmh TokenVerifyBench); ES256 and EdDSA
     * cost up to a millisecond here and go to a worker. The work is bounded by our own key's
     * algorithm, which the header was just checked to match.
     */
    boolean cheapToVerify() {
      return key.algorithm() == SigningAlgorithm.RS256;
    }
  }

  private Parsed parse(String token) throws InvalidTokenException {
    if (token == null || token.isEmpty()) throw new InvalidTokenException("no bearer token");
    if (token.length() > 8192) throw new InvalidTokenException("token is malformed: too long");
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) >= 0) {
      throw new InvalidTokenException("token is malformed: not a JWT of three dot-separated parts");
    }
    Header parsedHeader;
    try {
      parsedHeader = Header.parse(new Base64URL(token.substring(0, first)));
    } catch (ParseException e) {
      throw new InvalidTokenException("token is malformed: its header is not a JOSE header");
    }
    String a = parsedHeader.getAlgorithm() == null ? null : parsedHeader.getAlgorithm().getName();
    if (a == null) throw new InvalidTokenException("token is malformed: no alg in its header");
    if (parsedHeader instanceof PlainHeader || a.equalsIgnoreCase("none")) {
      throw new InvalidTokenException("token is unsigned (alg none is never accepted)");
    }
    // The allow-list: only the algorithms this gateway signs with; HMAC is never among them.
    if (SigningAlgorithm.of(a).filter(known -> known.jose.equals(a)).isEmpty() || !(parsedHeader instanceof JWSHeader header)) {
      throw new InvalidTokenException("token algorithm " + shown(a) + " is not accepted (only " + ACCEPTED + ")");
    }
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      throw new InvalidTokenException("token has critical header parameters this gateway does not support");
    }
    String k = header.getKeyID();
    if (k == null || k.isEmpty()) throw new InvalidTokenException("token has no key id (kid)");
    SigningKey key = keys.verifyingKey(k);
    if (key == null) throw new UnknownKidException();
    // A key verifies only the algorithm it was made for (no RS256/PS256 or ES256/ES384 switching).
    if (!key.jwsAlgorithm().equals(header.getAlgorithm())) {
      throw new InvalidTokenException("token algorithm " + shown(a) + " is not the algorithm of its key (" + key.algorithm().jose + ")");
    }
    return new Parsed(token, first + 1, second + 1, header, key);
  }

  private VerifiedToken verify(Parsed parsed) throws InvalidTokenException {
    String token = parsed.token();
    boolean valid;
    try {
      // The JWS signing input is the token up to its second dot, as sent (RFC 7515 section 5.2).
      byte[] signingInput = token.substring(0, parsed.signatureStart() - 1).getBytes(StandardCharsets.US_ASCII);
      valid = parsed.key().verifier().verify(parsed.header(), signingInput, new JdkDecoded(token.substring(parsed.signatureStart())));
    } catch (JOSEException | RuntimeException e) {
      valid = false;
    }
    if (!valid) throw new InvalidTokenException("token signature is invalid");

    JsonObject claims;
    try {
      // The JDK's decoder: Nimbus's Base64URL.decodeToString was half of a first-seen check's CPU (JFR).
      byte[] payload = URL_DECODER.decode(token.substring(parsed.payloadStart(), parsed.signatureStart() - 1));
      claims = new JsonObject(new String(payload, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new InvalidTokenException("token is malformed: its claims are not a JSON object");
    }
    JWSHeader header = parsed.header();
    String iss = string(claims, "iss");
    if (!config.tokens().issuer().equals(iss)) {
      throw new InvalidTokenException("token issuer " + (iss == null ? "(none)" : shown(iss)) + " is not " + config.tokens().issuer());
    }
    Object typ = header.getType() == null ? null : header.getType().getType();
    VerifiedToken.Kind kind;
    if (ACCESS_TYP.equals(typ) || "application/at+jwt".equals(typ)) {
      kind = VerifiedToken.Kind.ACCESS;
    } else if (ID_TYP.equals(typ) && "id".equals(claims.getValue("token_use"))) {
      kind = VerifiedToken.Kind.ID;
    } else {
      throw new InvalidTokenException("token type " + (typ == null ? "(none)" : shown(String.valueOf(typ))) + " is not one this gateway issues");
    }
    String sub = string(claims, "sub");
    String jti = string(claims, "jti");
    String aud = audience(claims);
    if (sub == null || sub.isEmpty()) throw new InvalidTokenException("token is malformed: no sub claim");
    if (jti == null || jti.isEmpty()) throw new InvalidTokenException("token is malformed: no jti claim");
    if (!(claims.getValue("exp") instanceof Number exp)) throw new InvalidTokenException("token is malformed: no numeric exp claim");
    if (!(claims.getValue("iat") instanceof Number iat)) throw new InvalidTokenException("token is malformed: no numeric iat claim");
    if (aud == null) throw new InvalidTokenException("token is malformed: aud must name exactly one application");
    if (config.application(aud).isEmpty()) {
      throw new InvalidTokenException("token audience " + shown(aud) + " is not an application of this gateway");
    }
    String scope = string(claims, "scope");
    return new VerifiedToken(kind, sub, aud, jti, iat.longValue(), exp.longValue(), scope, claims);
  }

  /**
   * A Base64URL part decoded by the JDK's decoder: Nimbus's own was about half of a first-seen
   * check's CPU outside the RSA operation (JFR; bench/verify-bench.sh). Bad characters throw,
   * which the caller takes as a bad signature.
   */
  private static final class JdkDecoded extends Base64URL {
    JdkDecoded(String base64Url) {
      super(base64Url);
    }

    @Override
    public byte[] decode() {
      return URL_DECODER.decode(toString());
    }
  }

  /** Token-supplied text in an error description: printable ASCII, bounded. */
  static String shown(String value) {
    String printable = value.replaceAll("[^\\x20-\\x7E]", "?").replace('"', '\'');
    return printable.length() > 80 ? printable.substring(0, 80) + "..." : printable;
  }

  private static String string(JsonObject claims, String name) {
    return claims.getValue(name) instanceof String s ? s : null;
  }

  private static String audience(JsonObject claims) {
    Object aud = claims.getValue("aud");
    if (aud instanceof String s) return s;
    if (aud instanceof JsonArray a && a.size() == 1 && a.getValue(0) instanceof String s) return s;
    return null;
  }

  /** The kid is not in this instance's key view; a reload may know it. */
  static final class UnknownKidException extends InvalidTokenException {
    UnknownKidException() {
      super("token key id (kid) is unknown");
    }
  }
}
