package io.scangate.webhook;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.MessageMode;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.error.ApiException;
import io.scangate.http.ErrorShape;
import io.scangate.http.Routes;
import io.scangate.util.Hashes;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatMessageCrypto.CryptoException;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Redis;
import io.scangate.redis.RedisKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The WeChat webhook (CONTRACT section 5) at {@code /connections/social/{identifier}/{userPoolId}/events}:
 * URL verification (GET) and message pushes (POST) in plain, compatible and safe mode. Checks, in
 * order: the connection, the body size, the message mode, the query's shape, the timestamp's skew,
 * the signature (before any decryption), the ciphertext (exact padding, the connection's appid),
 * the XML; then the {@link PushLedger} decides whether the push acts, and {@link WebhookVerticle}
 * acts. Errors are plain-text status answers ({@link ErrorShape#WECHAT}).
 */
public final class WebhookRoutes implements Routes {

  private static final Logger log = LoggerFactory.getLogger(WebhookRoutes.class);
  private static final Pattern TIMESTAMP = Pattern.compile("[0-9]{1,12}");
  private static final Pattern NONCE = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern SIGNATURE = Pattern.compile("[0-9a-fA-F]{40}");
  private static final long RETRY_DELAY_MS = 200;

  /** How long a push waits for Redis/PostgreSQL/the login flow before it is left unanswered (WeChat waits 5 s). */
  public static final Duration DEFAULT_HOLD = Duration.ofMillis(4500);

  private record Account(OfficialAccountConnection connection, WeChatMessageCrypto crypto) {}

  private final Vertx vertx;
  private final ScanGateConfig config;
  private final PushLedger ledger;
  private final Duration hold;
  private final Map<String, Account> accounts = new HashMap<>();
  private final Forwarder forwarder;

  public WebhookRoutes(Vertx vertx, ScanGateConfig config, Redis redis, RedisKeys keys, Duration hold) {
    this(vertx, config, redis, keys, hold, null);
  }

  /** With {@code forwarder} (null: none), every first-seen push is also passed on to the connection's {@code forwardTo}. */
  public WebhookRoutes(Vertx vertx, ScanGateConfig config, Redis redis, RedisKeys keys, Duration hold, Forwarder forwarder) {
    this.forwarder = forwarder;
    this.vertx = vertx;
    this.config = config;
    this.ledger = new PushLedger(redis, keys, config.webhook().maxClockSkew());
    this.hold = hold;
    for (var c : config.connections()) {
      if (c instanceof OfficialAccountConnection mp) {
        String key = mp.messageMode() == MessageMode.PLAIN ? null : mp.encodingAesKey();
        accounts.put(mp.identifier(), new Account(mp, new WeChatMessageCrypto(mp.token(), key, mp.wechatAppId())));
      }
    }
  }

  @Override
  public String prefix() {
    return "/connections";
  }

  @Override
  public ErrorShape errors() {
    return ErrorShape.WECHAT;
  }

  @Override
  public void mount(Router router) {
    router.get("/social/:identifier/:pool/events").handler(this::verifyUrl);
    router.post("/social/:identifier/:pool/events").handler(this::push);
  }

  private Account account(RoutingContext ctx) {
    Account account = accounts.get(ctx.pathParam("identifier"));
    if (account == null || !config.userPoolId().equals(ctx.pathParam("pool"))) {
      throw ApiException.notFound("connection_not_found", "No Official Account connection at this path");
    }
    return account;
  }

  /** WeChat's server configuration check: echo {@code echostr} when the signature is the token's. */
  private void verifyUrl(RoutingContext ctx) {
    Account account = account(ctx);
    MultiMap q = ctx.queryParams();
    String echostr = q.get("echostr");
    if (echostr == null || !account.crypto().verify(q.get("signature"), q.get("timestamp"), q.get("nonce"))) {
      throw invalidSignature();
    }
    ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Cache-Control", "no-store").end(echostr);
  }

  private void push(RoutingContext ctx) {
    long arrived = System.currentTimeMillis();
    Account account = account(ctx);
    OfficialAccountConnection c = account.connection();
    if (ctx.body().length() > config.webhook().maxBodyBytes()) {
      throw new ApiException(413, "body_too_large", "The push is larger than webhook.maxBodyBytes");
    }
    String body = ctx.body().length() == 0 ? "" : ctx.body().asString();
    MultiMap q = ctx.queryParams();
    String encryptType = q.get("encrypt_type");
    boolean encrypted = "aes".equalsIgnoreCase(encryptType);
    if (encryptType != null && !encrypted && !"raw".equalsIgnoreCase(encryptType)) {
      throw ApiException.badRequest("wrong_message_mode", "encrypt_type must be aes or absent");
    }
    if (encrypted != (c.messageMode() != MessageMode.PLAIN)) {
      throw ApiException.badRequest("wrong_message_mode", "The push does not use the connection's message mode");
    }
    String timestamp = q.get("timestamp");
    String nonce = q.get("nonce");
    String signature = encrypted ? q.get("msg_signature") : q.get("signature");
    if (timestamp == null || !TIMESTAMP.matcher(timestamp).matches() || nonce == null || !NONCE.matcher(nonce).matches()
        || signature == null || !SIGNATURE.matcher(signature).matches()) {
      throw invalidSignature();
    }
    long skew = Math.abs(arrived / 1000 - Long.parseLong(timestamp));
    if (skew > config.webhook().maxClockSkew().toSeconds()) {
      throw new ApiException(401, "stale_timestamp", "The push's timestamp is outside webhook.maxClockSkew");
    }
    String message;
    // WeChat sends `signature` in every mode; in compatible and safe mode msg_signature is what
    // authenticates the body, but a `signature` that is present must be right too.
    String plainSignature = q.get("signature");
    if (encrypted && plainSignature != null && !account.crypto().verify(plainSignature, timestamp, nonce)) {
      throw invalidSignature();
    }
    if (encrypted) {
      try {
        message = account.crypto().decryptEnvelope(signature, timestamp, nonce, body);
      } catch (CryptoException e) {
        throw switch (e.reason()) {
          case BAD_SIGNATURE -> invalidSignature();
          case WRONG_APPID -> new ApiException(401, "wrong_appid", "The push is encrypted for another appid");
          default -> invalidMessage();
        };
      }
    } else {
      if (!account.crypto().verify(signature, timestamp, nonce)) throw invalidSignature();
      message = body;
    }
    Map<String, String> fields;
    try {
      fields = WeChatXml.parse(message);
    } catch (WeChatXml.MalformedXmlException e) {
      throw invalidMessage();
    }
    String from = fields.get("FromUserName");
    String msgType = fields.get("MsgType");
    if (from == null || from.isBlank() || msgType == null || msgType.isBlank()) throw invalidMessage();

    JsonObject event = WeChatEvents.of(c.identifier(), fields);
    String plaintext = message; // what is forwarded: the decrypted message, re-encrypted per target
    String signatureId = Hashes.sha256Hex(timestamp + ":" + nonce + ":" + signature.toLowerCase(Locale.ROOT));
    String bodyHash = sha256Hex(ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes());
    String eventId = eventId(fields);
    long deadline = arrived + hold.toMillis();

    holding(() -> ledger.record(c.identifier(), signatureId, bodyHash, eventId), deadline)
        .onSuccess(outcome -> pushes(c.identifier(), switch (outcome) { case NEW -> "accepted"; case CONFLICT -> "rejected"; default -> "duplicate"; }))
        .compose(outcome -> switch (outcome) {
          case CONFLICT -> Future.failedFuture(new ApiException(401, "replayed_signature",
              "This signature was already used with another body"));
          case RETRY, DUPLICATE -> Future.succeededFuture((String) null);
          case NEW -> act(event, deadline).recover(e -> ledger.release(c.identifier(), signatureId, eventId)
                  .transform(released -> Future.<String>failedFuture(new Unprocessed())))
              .compose(reply -> forward(c.identifier(), plaintext, event, reply, deadline));
        })
        .onSuccess(reply -> answer(ctx, account, reply, timestamp, nonce))
        .onFailure(e -> {
          if (e instanceof Unprocessed) {
            leaveUnanswered(ctx, c.identifier(), deadline);
          } else {
            ctx.fail(e);
          }
        });
  }

  /** Asks {@link WebhookVerticle} to act; bounded by what is left of the hold. */
  private Future<String> act(JsonObject event, long deadline) {
    long left = Math.max(1, deadline - System.currentTimeMillis());
    return vertx.eventBus().<JsonObject>request(WebhookVerticle.ADDRESS, event, new DeliveryOptions().setSendTimeout(left))
        .map(m -> m.body().getString("reply"));
  }

  /**
   * Passes a first-seen push on to the connection's {@code forwardTo} (docs/forwarding.md): queued
   * for async targets (durable in Redis before WeChat is answered); for a non-login push without a
   * reply of ours, a proxy target's passive reply, waited for at most the proxy wait. Forwarding
   * never fails the push: WeChat gets its answer whatever the owner's server does.
   */
  private Future<String> forward(String connection, String message, JsonObject event, String reply, long deadline) {
    if (forwarder == null) return Future.succeededFuture(reply);
    long left = Math.max(1, deadline - System.currentTimeMillis());
    Future<Void> queued = forwarder.enqueue(connection, message, event).timeout(left, TimeUnit.MILLISECONDS)
        .recover(e -> Future.succeededFuture());
    if (reply != null || !forwarder.proxies(connection, event)) return queued.map(reply);
    long wait = Math.max(1, Math.min(forwarder.proxyWaitMs(), deadline - System.currentTimeMillis() - 100));
    Future<String> owner = forwarder.proxy(connection, message, wait);
    return Future.join(queued, owner).transform(done -> Future.succeededFuture(owner.result()));
  }

  /** Runs {@code op} until it succeeds or the deadline passes (Redis down: retry quietly rather than answer an error). */
  private <T> Future<T> holding(Supplier<Future<T>> op, long deadline) {
    long left = deadline - System.currentTimeMillis();
    if (left <= 0) return Future.failedFuture(new Unprocessed());
    return op.get().timeout(left, TimeUnit.MILLISECONDS).recover(e -> {
      if (e instanceof ApiException) return Future.failedFuture(e);
      if (deadline - System.currentTimeMillis() <= RETRY_DELAY_MS) return Future.failedFuture(new Unprocessed());
      Promise<Void> later = Promise.promise();
      vertx.setTimer(RETRY_DELAY_MS, t -> later.complete());
      return later.future().compose(v -> holding(op, deadline));
    });
  }

  /** Waits out the hold, then closes the connection without a word: WeChat retries a push it got no answer to. */
  private void leaveUnanswered(RoutingContext ctx, String connection, long deadline) {
    pushes(connection, "held");
    log.atWarn().addKeyValue("connection", connection)
        .log("push held unanswered: Redis, PostgreSQL or the login flow is unavailable; WeChat will retry");
    long wait = Math.max(1, deadline - System.currentTimeMillis());
    vertx.setTimer(wait, t -> {
      if (!ctx.response().ended() && !ctx.response().closed()) ctx.request().connection().close();
    });
  }

  /** {@code scangate_webhook_pushes_total{connection, outcome}}: accepted, duplicate (WeChat's retries), rejected (replayed signature), held (outage). */
  private void pushes(String connection, String outcome) {
    if (forwarder == null) return;
    io.micrometer.core.instrument.Counter.builder("scangate.webhook.pushes").tag("connection", connection).tag("outcome", outcome)
        .description("Verified WeChat pushes by outcome").register(forwarder.metrics()).increment();
  }

  private void answer(RoutingContext ctx, Account account, String reply, String timestamp, String nonce) {
    if (ctx.response().closed()) return;
    if (reply == null) {
      ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").end("success");
    } else {
      String body = account.crypto().canEncrypt() ? account.crypto().encryptedReply(reply, timestamp, nonce) : reply;
      ctx.response().putHeader("Content-Type", "application/xml; charset=utf-8").end(body);
    }
  }

  /** WeChat's duplicate identity: MsgId for messages, else sender, time, event and key. */
  static String eventId(Map<String, String> fields) {
    String msgId = fields.get("MsgId");
    if (msgId != null && !msgId.isBlank()) return "m:" + Hashes.sha256Hex(msgId);
    String composite = String.join("\u0000", nz(fields.get("FromUserName")), nz(fields.get("CreateTime")),
        nz(fields.get("Event")), nz(fields.get("EventKey")));
    return "e:" + Hashes.sha256Hex(composite);
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  private static ApiException invalidSignature() {
    return new ApiException(401, "invalid_signature", "The signature does not match the connection's token");
  }

  private static ApiException invalidMessage() {
    return ApiException.badRequest("invalid_message", "The push is not a well-formed, harmless WeChat message");
  }

  /** Not processed (a backing service or the login flow failed): leave the push unanswered. */
  private static final class Unprocessed extends RuntimeException {
    Unprocessed() {
      super("not processed", null, false, false);
    }
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
