package io.scangate.wechat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.redis.RedisKeys;
import io.scangate.redis.RedisScripts;
import io.micrometer.core.instrument.Gauge;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * WeChat's server API, non-blocking. Access tokens come from {@code cgi-bin/stable_token} and are
 * shared by every gateway instance through Redis: one instance at a time fetches (under a Redis
 * lock whose value is a fencing token checked when the result is stored), the others wait for
 * the cached result. A token WeChat rejects (40001/40014/42001) is replaced once and the call
 * retried once. Every call has a timeout; -1 (busy), 5xx, timeouts and connection failures are
 * retried with exponential backoff a bounded number of times. See docs/wechat.md.
 */
public final class WeChatClient {

  /** What {@code sns/jscode2session} answers. {@code unionid} may be null. */
  public record MiniProgramSession(String openid, String unionid, String sessionKey) {
    @Override
    public String toString() {
      return "MiniProgramSession[openid=" + openid + ", unionid=" + unionid + ", sessionKey=***]";
    }
  }

  /** {@code phone_info} of {@code wxa/business/getuserphonenumber}. */
  public record PhoneNumber(String phoneNumber, String purePhoneNumber, String countryCode) {}

  /** A parametric Official Account QR code ({@code cgi-bin/qrcode/create}); {@code url} is what the code carries. */
  public record QrTicket(String ticket, String url, int expireSeconds) {
    @Override
    public String toString() {
      return "QrTicket[ticket=***, url=" + url + ", expireSeconds=" + expireSeconds + "]";
    }
  }

  /**
   * Timeouts, retries, WeChat's forced-refresh limits, and the circuit breaker: after
   * {@code breakerFailures} failed attempts (timeout, unreachable, 5xx, -1) within 10 s, calls fail
   * at once for {@code breakerReset}, then one call tries WeChat again (half-open).
   */
  public record Settings(Duration callTimeout, int maxAttempts, Duration retryBackoff, Duration tokenWait,
                         Duration forceRefreshInterval, int forceRefreshesPerDay, int breakerFailures, Duration breakerReset) {

    public Settings(Duration callTimeout, int maxAttempts, Duration retryBackoff, Duration tokenWait,
                    Duration forceRefreshInterval, int forceRefreshesPerDay) {
      this(callTimeout, maxAttempts, retryBackoff, tokenWait, forceRefreshInterval, forceRefreshesPerDay, 5, Duration.ofSeconds(10));
    }

    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(5), 3, Duration.ofMillis(200), Duration.ofSeconds(45),
          Duration.ofSeconds(30), 20);
    }

    public Settings withCallTimeout(Duration timeout) {
      return new Settings(timeout, maxAttempts, retryBackoff, tokenWait, forceRefreshInterval, forceRefreshesPerDay,
          breakerFailures, breakerReset);
    }

    public Settings withRetries(int attempts, Duration backoff) {
      return new Settings(callTimeout, attempts, backoff, tokenWait, forceRefreshInterval, forceRefreshesPerDay,
          breakerFailures, breakerReset);
    }

    public Settings withBreaker(int failures, Duration reset) {
      return new Settings(callTimeout, maxAttempts, retryBackoff, tokenWait, forceRefreshInterval, forceRefreshesPerDay,
          failures, reset);
    }
  }

  /** At most this many calls to WeChat in flight, and this many waiting for a connection; beyond: fail at once. */
  static final int MAX_CONNECTIONS = 50;
  static final int MAX_WAITING = 200;

  private static final Logger log = LoggerFactory.getLogger(WeChatClient.class);
  private static final ZoneId WECHAT_ZONE = ZoneId.of("Asia/Shanghai"); // WeChat's daily quotas reset at Beijing midnight
  private static final long POLL_MILLIS = 50;
  private static final Duration EXPIRY_MARGIN = Duration.ofMinutes(5);

  static final String STABLE_TOKEN = "cgi-bin/stable_token";
  static final String JSCODE2SESSION = "sns/jscode2session";
  static final String PHONE_NUMBER = "wxa/business/getuserphonenumber";
  static final String QRCODE_CREATE = "cgi-bin/qrcode/create";
  static final String WXACODE = "wxa/getwxacodeunlimit";
  static final String USER_INFO = "cgi-bin/user/info";

  /** Stores a fetched token only while we still hold the lock (the fencing check), then releases it. */
  private static final String STORE_IF_LOCK_HELD = """
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        redis.call('DEL', KEYS[1])
        return 1
      end
      return 0""";
  private static final String RELEASE_LOCK = """
      if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0""";

  private final Vertx vertx;
  private final Redis redis;
  private final RedisKeys keys;
  private final MeterRegistry metrics;
  private final Settings settings;
  private final String baseUrl;
  private final WebClient web;
  /**
   * One breaker per WeChat API host (this client's {@code apiBaseUrl}), not per app id: what trips
   * it (timeouts, refused connections, 5xx, -1) is WeChat or the network being down, which every
   * app on this instance sees at once; an app's own refusals (bad secret, invalid code) never count.
   */
  private final CircuitBreaker breaker;
  /** In-process coalescing: concurrent callers on this instance share one token acquisition. */
  private final Map<String, Future<String>> acquisitions = new ConcurrentHashMap<>();

  /** What {@link #WeChatClient(Infrastructure)} uses; tests shorten the timeouts and the breaker's pause. */
  private static volatile Settings newClientSettings = Settings.defaults();

  public static void settingsForNewClients(Settings settings) {
    newClientSettings = settings == null ? Settings.defaults() : settings;
  }

  public WeChatClient(Infrastructure infra) {
    this(infra, newClientSettings);
  }

  public WeChatClient(Infrastructure infra, Settings settings) {
    this.vertx = infra.vertx();
    this.redis = infra.redis();
    this.keys = infra.keys();
    this.metrics = infra.metrics();
    this.settings = settings;
    String base = infra.config().wechat().apiBaseUrl();
    this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.web = WebClient.create(vertx, new WebClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, settings.callTimeout().toMillis()))
        .setUserAgent("ScanGate")
        .setFollowRedirects(false),
        new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS).setMaxWaitQueueSize(MAX_WAITING));
    String host = java.net.URI.create(baseUrl).getHost();
    this.breaker = CircuitBreaker.create("wechat-api", vertx, new CircuitBreakerOptions()
            .setMaxFailures(settings.breakerFailures())
            .setFailuresRollingWindow(10_000)
            .setResetTimeout(settings.breakerReset().toMillis())
            .setTimeout(-1) // each request has its own timeout
            .setNotificationAddress(null))
        .openHandler(v -> log.atWarn().addKeyValue("host", host).addKeyValue("pauseMs", settings.breakerReset().toMillis())
            .log("WeChat keeps failing: circuit breaker open, calls fail at once"))
        .halfOpenHandler(v -> log.atInfo().addKeyValue("host", host).log("WeChat circuit breaker half-open: trying one call"))
        .closeHandler(v -> log.atInfo().addKeyValue("host", host).log("WeChat answers again: circuit breaker closed"));
    Gauge.builder("scangate.wechat.breaker.state", breaker, b -> switch (b.state()) {
          case CLOSED -> 0;
          case HALF_OPEN -> 1;
          case OPEN -> 2;
        }).tag("host", host == null ? "unknown" : host)
        .description("WeChat API circuit breaker: 0 closed, 1 half-open, 2 open").register(metrics);
  }

  /** The circuit breaker's state (CLOSED, HALF_OPEN, OPEN). */
  public CircuitBreakerState breakerState() {
    return breaker.state();
  }

  // ---------------------------------------------------------------- public API

  /** The account's current access token, from the cluster-wide cache or fetched once for all instances. */
  public Future<String> accessToken(Connection c) {
    return cachedToken(c).compose(cached -> cached != null ? Future.succeededFuture(cached) : acquire(c, null));
  }

  public Future<MiniProgramSession> jscode2session(Connection c, String jsCode) {
    return exchange(JSCODE2SESSION, c, () -> request(HttpMethod.GET, JSCODE2SESSION)
        .addQueryParam("appid", c.wechatAppId())
        .addQueryParam("secret", c.appSecret())
        .addQueryParam("js_code", jsCode)
        .addQueryParam("grant_type", "authorization_code")
        .send(), c.appSecret(), jsCode)
        .compose(json -> {
          String openid = json.getString("openid");
          String sessionKey = json.getString("session_key");
          if (openid == null || sessionKey == null) return badResponse(JSCODE2SESSION, "no openid or session_key");
          return Future.succeededFuture(new MiniProgramSession(openid, json.getString("unionid"), sessionKey));
        });
  }

  public Future<PhoneNumber> phoneNumber(Connection c, String phoneCode) {
    return withToken(c, token -> exchange(PHONE_NUMBER, c, () -> request(HttpMethod.POST, PHONE_NUMBER)
        .addQueryParam("access_token", token)
        .sendJsonObject(new JsonObject().put("code", phoneCode)), token, phoneCode))
        .compose(json -> {
          JsonObject info = json.getJsonObject("phone_info");
          if (info == null || info.getString("purePhoneNumber") == null) return badResponse(PHONE_NUMBER, "no phone_info");
          return Future.succeededFuture(new PhoneNumber(info.getString("phoneNumber"), info.getString("purePhoneNumber"),
              info.getString("countryCode")));
        });
  }

  /** A temporary {@code QR_STR_SCENE} code for {@code sceneStr} (1-64 characters), valid for {@code expire} (max 30 days). */
  public Future<QrTicket> createQrCode(Connection c, String sceneStr, Duration expire) {
    JsonObject body = new JsonObject()
        .put("expire_seconds", expire.toSeconds())
        .put("action_name", "QR_STR_SCENE")
        .put("action_info", new JsonObject().put("scene", new JsonObject().put("scene_str", sceneStr)));
    return withToken(c, token -> exchange(QRCODE_CREATE, c, () -> request(HttpMethod.POST, QRCODE_CREATE)
        .addQueryParam("access_token", token)
        .sendJsonObject(body), token))
        .compose(json -> {
          String ticket = json.getString("ticket");
          String url = json.getString("url");
          if (ticket == null || url == null) return badResponse(QRCODE_CREATE, "no ticket or url");
          return Future.succeededFuture(new QrTicket(ticket, url, json.getInteger("expire_seconds", (int) expire.toSeconds())));
        });
  }

  /** Where WeChat serves the QR image of a ticket (mp.weixin.qq.com for the real WeChat, else next to the API). */
  public String showQrCodeUrl(String ticket) {
    String encoded = URLEncoder.encode(ticket, StandardCharsets.UTF_8);
    if (baseUrl.equals("https://api.weixin.qq.com")) return "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + encoded;
    return baseUrl + "/cgi-bin/showqrcode?ticket=" + encoded;
  }

  /** A mini program code image ({@code getwxacodeunlimit}); {@code scene} at most 32 characters. */
  public Future<Buffer> wxaCode(Connection c, String scene, String page, ScanGateConfig.EnvVersion env) {
    JsonObject body = new JsonObject().put("scene", scene).put("check_path", false)
        .put("env_version", env == null ? "release" : env.name().toLowerCase(Locale.ROOT));
    if (page != null) body.put("page", page);
    return withToken(c, token -> send(WXACODE, c, () -> request(HttpMethod.POST, WXACODE)
        .addQueryParam("access_token", token)
        .sendJsonObject(body), token)
        .compose(answer -> answer.json != null
            ? badResponse(WXACODE, "JSON without errcode instead of an image")
            : Future.succeededFuture(answer.body)));
  }

  /** {@code cgi-bin/user/info}: subscribe state, unionid... as WeChat returns it. */
  public Future<JsonObject> userInfo(Connection c, String openid) {
    return withToken(c, token -> exchange(USER_INFO, c, () -> request(HttpMethod.GET, USER_INFO)
        .addQueryParam("access_token", token)
        .addQueryParam("openid", openid)
        .addQueryParam("lang", "zh_CN")
        .send(), token));
  }

  // ---------------------------------------------------------------- access tokens

  // One WeChat app's token, its lock and its forced-refresh counters share the app's slot (the
  // scripts touch them together); different apps spread over the cluster.
  private String tokenKey(Connection c) {
    return keys.inSlot("wechat-" + c.wechatAppId(), "wechat", "token");
  }

  private String lockKey(Connection c) {
    return keys.inSlot("wechat-" + c.wechatAppId(), "wechat", "token-lock");
  }

  private Future<String> cachedToken(Connection c) {
    return redis.send(Request.cmd(Command.GET).arg(tokenKey(c))).map(r -> r == null ? null : r.toString());
  }

  /** Calls WeChat with the token; if WeChat rejects the token, replaces it once and retries once. */
  private <T> Future<T> withToken(Connection c, Function<String, Future<T>> call) {
    return accessToken(c).compose(token -> call.apply(token).recover(e -> {
      if (e instanceof WeChatException w && w.isAccessTokenRejected()) {
        log.atInfo().addKeyValue("appId", c.wechatAppId()).addKeyValue("errcode", w.errcode())
            .log("WeChat rejected the access token; replacing it");
        return acquire(c, token).compose(call);
      }
      return Future.failedFuture(e);
    }));
  }

  /**
   * One acquisition per (account, stale token) on this instance at a time. {@code stale} is the
   * token WeChat just rejected (null for a plain cache miss): any other cached token will do.
   */
  private Future<String> acquire(Connection c, String stale) {
    String key = c.wechatAppId() + "|" + (stale == null ? "" : stale);
    Promise<String> mine = Promise.promise();
    Future<String> existing = acquisitions.putIfAbsent(key, mine.future());
    if (existing != null) return existing;
    long deadline = System.nanoTime() + settings.tokenWait().toNanos();
    acquireAcrossInstances(c, stale, deadline).onComplete(ar -> {
      acquisitions.remove(key, mine.future());
      mine.handle(ar);
    });
    return mine.future();
  }

  private Future<String> acquireAcrossInstances(Connection c, String stale, long deadline) {
    String fence = HexFormat.of().formatHex(randomBytes(16));
    // Long enough for a normal and a forced fetch with all their retries; waiters wait longer than this.
    long oneFetch = settings.callTimeout().toMillis() * settings.maxAttempts()
        + (settings.retryBackoff().toMillis() << Math.min(20, settings.maxAttempts()));
    long lockMillis = 2 * oneFetch + 5_000;
    return redis.send(Request.cmd(Command.SET).arg(lockKey(c)).arg(fence).arg("NX").arg("PX").arg(lockMillis))
        .compose(locked -> {
          if (locked != null) return fetchUnderLock(c, stale, fence);
          return vertx.timer(POLL_MILLIS, TimeUnit.MILLISECONDS)
              .compose(t -> cachedToken(c))
              .compose(cached -> {
                if (cached != null && !cached.equals(stale)) return Future.succeededFuture(cached);
                if (System.nanoTime() > deadline) {
                  return Future.failedFuture(new WeChatException(WeChatException.Reason.TIMEOUT, STABLE_TOKEN,
                      WeChatException.SYSTEM_BUSY, "timeout",
                      "Waited " + settings.tokenWait().toSeconds() + " s for another instance to fetch the access token of "
                          + c.wechatAppId() + " from WeChat"));
                }
                return acquireAcrossInstances(c, stale, deadline);
              });
        });
  }

  private Future<String> fetchUnderLock(Connection c, String stale, String fence) {
    return cachedToken(c)
        .compose(cached -> {
          // Another instance may have replaced the token while we waited for the lock.
          if (cached != null && !cached.equals(stale)) return Future.succeededFuture(new FetchedToken(cached, -1));
          return fetchStableToken(c, false).compose(fresh -> {
            if (stale == null || !fresh.token().equals(stale)) return Future.succeededFuture(fresh);
            // WeChat hands out the very token it rejects: only a forced refresh replaces it.
            return takeForceRefresh(c).compose(v -> fetchStableToken(c, true));
          });
        })
        .compose(fetched -> {
          if (fetched.expiresIn() < 0) return release(c, fence).map(fetched.token());
          return redis.send(Request.cmd(Command.EVAL).arg(STORE_IF_LOCK_HELD).arg(2).arg(lockKey(c)).arg(tokenKey(c))
                  .arg(fence).arg(fetched.token()).arg(cacheMillis(fetched.expiresIn())))
              .map(stored -> {
                if (stored == null || stored.toInteger() != 1) {
                  // Our lock expired and another instance took over: use our token, but do not overwrite theirs.
                  log.atWarn().addKeyValue("appId", c.wechatAppId()).log("access token lock lost before storing; not caching");
                }
                return fetched.token();
              });
        }, e -> release(c, fence).transform(x -> Future.failedFuture(e)));
  }

  private Future<Void> release(Connection c, String fence) {
    return redis.send(Request.cmd(Command.EVAL).arg(RELEASE_LOCK).arg(1).arg(lockKey(c)).arg(fence)).mapEmpty();
  }

  static long cacheMillis(long expiresInSeconds) {
    long margin = Math.min(EXPIRY_MARGIN.toSeconds(), expiresInSeconds / 2);
    return Math.max(1_000, (expiresInSeconds - margin) * 1_000);
  }

  private Future<Void> takeForceRefresh(Connection c) {
    String day = LocalDate.now(WECHAT_ZONE).toString();
    return redis.send(Request.cmd(Command.EVAL).arg(RedisScripts.TAKE_FORCE_REFRESH).arg(2)
            .arg(keys.inSlot("wechat-" + c.wechatAppId(), "wechat", "token-force-recent"))
            .arg(keys.inSlot("wechat-" + c.wechatAppId(), "wechat", "token-force-day", day))
            .arg(settings.forceRefreshInterval().toMillis()).arg(settings.forceRefreshesPerDay()))
        .compose(r -> {
          long n = r.toLong();
          if (n > 0) return Future.succeededFuture();
          String why = n == -1
              ? "at most once per " + settings.forceRefreshInterval().toSeconds() + " s"
              : "at most " + settings.forceRefreshesPerDay() + " times a day";
          counter("scangate.wechat.token.refresh.limited", STABLE_TOKEN).increment();
          return Future.failedFuture(new WeChatException(WeChatException.Reason.REFRESH_LIMITED, STABLE_TOKEN, 40001,
              "access token rejected", "WeChat rejected the access token of " + c.wechatAppId()
              + " and WeChat allows a forced refresh only " + why + "; try again later"));
        });
  }

  private record FetchedToken(String token, long expiresIn) {}

  private Future<FetchedToken> fetchStableToken(Connection c, boolean force) {
    JsonObject body = new JsonObject().put("grant_type", "client_credential").put("appid", c.wechatAppId())
        .put("secret", c.appSecret()).put("force_refresh", force);
    return exchange(STABLE_TOKEN, c, () -> request(HttpMethod.POST, STABLE_TOKEN).sendJsonObject(body), c.appSecret())
        .compose(json -> {
          String token = json.getString("access_token");
          Long expiresIn = json.getLong("expires_in");
          if (token == null || token.isBlank() || expiresIn == null || expiresIn <= 0) {
            return badResponse(STABLE_TOKEN, "no access_token or expires_in");
          }
          log.atInfo().addKeyValue("appId", c.wechatAppId()).addKeyValue("force", force).addKeyValue("expiresIn", expiresIn)
              .log("fetched WeChat access token");
          return Future.succeededFuture(new FetchedToken(token, expiresIn));
        });
  }

  // ---------------------------------------------------------------- HTTP with retries and metrics

  private HttpRequest<Buffer> request(HttpMethod method, String path) {
    return web.requestAbs(method, baseUrl + "/" + path).timeout(settings.callTimeout().toMillis());
  }

  /** A WeChat answer: the parsed JSON when the body is JSON, else null (an image). */
  private record Answer(JsonObject json, Buffer body, String contentType) {}

  /** A JSON call: the answer's JSON when errcode is absent or 0, else a typed failure. */
  private Future<JsonObject> exchange(String api, Connection c, Supplier<Future<HttpResponse<Buffer>>> send, String... secrets) {
    return send(api, c, send, secrets).compose(answer -> answer.json == null
        ? badResponse(api, "not JSON")
        : Future.succeededFuture(answer.json));
  }

  private Future<Answer> send(String api, Connection c, Supplier<Future<HttpResponse<Buffer>>> send, String... secrets) {
    return attempt(api, c, send, secrets, 1);
  }

  private Future<Answer> attempt(String api, Connection c, Supplier<Future<HttpResponse<Buffer>>> send, String[] secrets, int attempt) {
    counter("scangate.wechat.calls", api).increment();
    Timer.Sample sample = Timer.start(metrics);
    // The breaker counts timeouts, unreachable, 5xx and -1; a 5xx or -1 answer still reaches the checks below.
    Future<Received> sent = breaker.<Received>execute(() -> {
      try {
        return send.get().map(Received::of)
            .compose(r -> r.busy() ? Future.failedFuture(new BusyAnswer(r)) : Future.succeededFuture(r));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }).recover(e -> e instanceof BusyAnswer busy ? Future.succeededFuture(busy.received) : Future.failedFuture(e));
    return sent.transform(ar -> {
      sample.stop(Timer.builder("scangate.wechat.latency").tag("api", api)
          .description("WeChat API call latency, per attempt").publishPercentileHistogram().register(metrics));
      WeChatException failure;
      if (ar.failed() && ar.cause() instanceof OpenCircuitException) {
        // No retry: WeChat failed repeatedly just now; the breaker lets one call through after breakerReset.
        errorCounter(api, "circuit_open").increment();
        return Future.failedFuture(new WeChatException(WeChatException.Reason.UNREACHABLE, api, WeChatException.SYSTEM_BUSY,
            "circuit open", "WeChat is unavailable: calls to WeChat failed repeatedly, so " + api + " for " + c.wechatAppId()
                + " was not tried; WeChat is tried again within " + settings.breakerReset().toSeconds() + " s"));
      } else if (ar.failed()) {
        boolean timeout = ar.cause() instanceof TimeoutException;
        // Never the exception's message: Vert.x puts the request URI (with access_token) in it.
        failure = new WeChatException(timeout ? WeChatException.Reason.TIMEOUT : WeChatException.Reason.UNREACHABLE, api,
            WeChatException.SYSTEM_BUSY, timeout ? "timeout" : "unreachable",
            timeout
                ? "WeChat did not answer " + api + " for " + c.wechatAppId() + " within " + settings.callTimeout().toMillis()
                  + " ms (" + attempt + " attempts)"
                : "WeChat could not be reached for " + api + " (" + ar.cause().getClass().getSimpleName() + ", "
                  + attempt + " attempts)");
        errorCounter(api, timeout ? "timeout" : "unreachable").increment();
      } else {
        Received received = ar.result();
        HttpResponse<Buffer> response = received.response();
        Buffer body = received.body();
        String contentType = received.contentType();
        JsonObject json = received.json();
        if (received.busy()) {
          failure = new WeChatException(WeChatException.Reason.BUSY, api, WeChatException.SYSTEM_BUSY, "system busy",
              "WeChat is busy and did not serve " + api + " for " + c.wechatAppId() + " (" + attempt + " attempts)");
          errorCounter(api, response.statusCode() >= 500 ? "http_" + response.statusCode() : "-1").increment();
        } else if (response.statusCode() != 200) {
          return badResponse(api, "HTTP status " + response.statusCode());
        } else if (json == null && looksLikeJson(body, contentType)) {
          return badResponse(api, "malformed JSON");
        } else if (json != null && json.getValue("errcode") != null && !(json.getValue("errcode") instanceof Number)) {
          return badResponse(api, "errcode is not a number");
        } else if (json != null && json.getInteger("errcode", 0) != 0) {
          int errcode = json.getInteger("errcode");
          errorCounter(api, String.valueOf(errcode)).increment();
          return Future.failedFuture(WeChatException.wechat(api, c.wechatAppId(), errcode,
              scrub(String.valueOf(json.getValue("errmsg", "")), c, secrets)));
        } else {
          return Future.succeededFuture(new Answer(json, body, contentType));
        }
      }
      if (attempt >= settings.maxAttempts()) {
        log.atWarn().addKeyValue("api", api).addKeyValue("appId", c.wechatAppId()).addKeyValue("reason", failure.reason())
            .addKeyValue("attempts", attempt).log("WeChat call failed");
        return Future.failedFuture(failure);
      }
      long backoff = settings.retryBackoff().toMillis() << (attempt - 1);
      long jittered = backoff / 2 + (long) (Math.random() * (backoff / 2 + 1));
      return vertx.timer(Math.max(1, jittered), TimeUnit.MILLISECONDS)
          .compose(t -> attempt(api, c, send, secrets, attempt + 1));
    });
  }

  /** An HTTP answer, read once: its body, and its JSON when the body is JSON (else null: an image, or malformed). */
  private record Received(HttpResponse<Buffer> response, Buffer body, String contentType, JsonObject json) {
    static Received of(HttpResponse<Buffer> response) {
      Buffer body = response.body() == null ? Buffer.buffer() : response.body();
      String contentType = response.getHeader("Content-Type");
      return new Received(response, body, contentType, looksLikeJson(body, contentType) ? parseJson(body) : null);
    }

    /** A 5xx or errcode -1: WeChat is busy (the breaker counts it; the call may be retried). */
    boolean busy() {
      return response.statusCode() >= 500
          || json != null && json.getValue("errcode") instanceof Number n && n.intValue() == WeChatException.SYSTEM_BUSY;
    }
  }

  /** A 5xx or a -1 answer: counted by the breaker as a failure, then handled as an answer. */
  private static final class BusyAnswer extends RuntimeException {
    final Received received;

    BusyAnswer(Received received) {
      super("WeChat busy", null, false, false);
      this.received = received;
    }
  }

  private static boolean looksLikeJson(Buffer body, String contentType) {
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("image/")) return false;
    for (int i = 0; i < body.length(); i++) {
      byte b = body.getByte(i);
      if (b == ' ' || b == '\n' || b == '\r' || b == '\t') continue;
      return b == '{';
    }
    return contentType != null && contentType.contains("json");
  }

  private static JsonObject parseJson(Buffer body) {
    try {
      return body.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  /** WeChat's errmsg, without anything we sent that is secret, and bounded. */
  private static String scrub(String errmsg, Connection c, String[] secrets) {
    String s = errmsg;
    if (c.appSecret() != null && !c.appSecret().isEmpty()) s = s.replace(c.appSecret(), "***");
    for (String secret : secrets) {
      if (secret != null && secret.length() >= 4) s = s.replace(secret, "***");
    }
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private <T> Future<T> badResponse(String api, String what) {
    errorCounter(api, "bad_response").increment();
    return Future.failedFuture(new WeChatException(WeChatException.Reason.BAD_RESPONSE, api, WeChatException.SYSTEM_BUSY,
        "bad response", "WeChat's answer to " + api + " is not what WeChat documents: " + what));
  }

  private Counter counter(String name, String api) {
    return Counter.builder(name).tag("api", api).register(metrics);
  }

  private Counter errorCounter(String api, String errcode) {
    return Counter.builder("scangate.wechat.errors").tag("api", api).tag("errcode", errcode)
        .description("WeChat API failures by errcode (or timeout, unreachable, http_5xx, bad_response)").register(metrics);
  }

  private static byte[] randomBytes(int n) {
    return io.scangate.util.Randoms.bytes(n);
  }
}
