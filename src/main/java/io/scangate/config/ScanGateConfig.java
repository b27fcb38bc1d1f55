package io.scangate.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole configuration file (CONTRACT section 2), parsed and validated by {@link ConfigLoader}.
 * Every record here is immutable and every value has already passed validation.
 */
public record ScanGateConfig(
    Server server,
    RedisSettings redis,
    PostgresSettings postgres,
    WeChat wechat,
    String userPoolId,
    Tokens tokens,
    Qr qr,
    Webhook webhook,
    RateLimits rateLimits,
    List<Application> applications,
    List<Connection> connections,
    Admin admin) {

  /** Without an {@code admin} section: no API keys, no admin users, the default audit retention. */
  public ScanGateConfig(Server server, RedisSettings redis, PostgresSettings postgres, WeChat wechat, String userPoolId,
                        Tokens tokens, Qr qr, Webhook webhook, RateLimits rateLimits, List<Application> applications,
                        List<Connection> connections) {
    this(server, redis, postgres, wechat, userPoolId, tokens, qr, webhook, rateLimits, applications, connections,
        Admin.DEFAULT);
  }

  /**
   * @param metricsPort where {@code /metrics} is served (only there), or null for the main port
   * @param shutdownGracePeriod how long a stopping instance lets in-flight requests finish after it
   *     stopped taking new work (readiness 503, waiting browsers answered)
   * @param readTimeout how long a client may take to send a request's body once its headers are in
   * @param headerTimeout how long a client may take to send a request's line and headers, from their
   *     first byte (from the connection's opening for its first request)
   */
  public record Server(String host, int port, String publicUrl, List<Cidr> trustedProxies, Integer metricsPort,
                       Duration shutdownGracePeriod, Duration readTimeout, Duration headerTimeout) {

    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(20);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);

    /** The header timeout at its default. */
    public Server(String host, int port, String publicUrl, List<Cidr> trustedProxies, Integer metricsPort,
                  Duration shutdownGracePeriod, Duration readTimeout) {
      this(host, port, publicUrl, trustedProxies, metricsPort, shutdownGracePeriod, readTimeout, DEFAULT_HEADER_TIMEOUT);
    }

    public Server(String host, int port, String publicUrl, List<Cidr> trustedProxies) {
      this(host, port, publicUrl, trustedProxies, null, DEFAULT_SHUTDOWN_GRACE, DEFAULT_READ_TIMEOUT, DEFAULT_HEADER_TIMEOUT);
    }
  }

  public enum RedisMode { STANDALONE, CLUSTER, SENTINEL }

  /**
   * @param url the server, or the first seed node (cluster) or sentinel (sentinel)
   * @param nodes more seed nodes or sentinels; empty in standalone mode
   * @param masterName the sentinel set's master; ignored unless the mode is sentinel
   */
  public record RedisSettings(String url, String keyPrefix, RedisMode mode, List<String> nodes, String masterName) {

    public RedisSettings {
      nodes = List.copyOf(nodes);
    }

    /** A single standalone server. */
    public RedisSettings(String url, String keyPrefix) {
      this(url, keyPrefix, RedisMode.STANDALONE, List.of(), null);
    }

    /** The same on another first server (start-dev's {@code SCANGATE_REDIS_URL}, a test's): mode, nodes and master kept. */
    public RedisSettings withUrl(String newUrl) {
      return new RedisSettings(newUrl, keyPrefix, mode, nodes, masterName);
    }

    @Override
    public String toString() {
      // URLs may carry a password.
      return "RedisSettings[mode=" + mode + ", keyPrefix=" + keyPrefix + ", nodes=" + nodes.size()
          + (masterName == null ? "" : ", masterName=" + masterName) + ", url=***]";
    }
  }

  public record PostgresSettings(String url, int poolSize) {
    @Override
    public String toString() {
      // The URL may carry a password.
      return "PostgresSettings[poolSize=" + poolSize + ", url=***]";
    }
  }

  public record WeChat(String apiBaseUrl) {}

  /** A JWS algorithm tokens can be signed with, by its JOSE name. */
  public enum SigningAlgorithm {
    RS256("RS256"), ES256("ES256"), EDDSA("EdDSA");

    public final String jose;

    SigningAlgorithm(String jose) {
      this.jose = jose;
    }

    /** By JOSE name, ignoring case. */
    public static Optional<SigningAlgorithm> of(String name) {
      for (SigningAlgorithm a : values()) {
        if (a.jose.equalsIgnoreCase(name.trim())) return Optional.of(a);
      }
      return Optional.empty();
    }

    static String choices() {
      return String.join(" | ", java.util.Arrays.stream(values()).map(a -> a.jose).toList());
    }
  }

  /**
   * @param signingAlgorithm the default algorithm of the tokens (per application: {@link Application#signingAlgorithm()}).
   *     Only parsed and validated today: the current build signs every token with ES256.
   * @param ssoSessionTtl how long the hosted page remembers a login (single sign-on)
   * @param refreshReuseInterval a retried refresh within this gets the same successor ({@link Duration#ZERO}: never)
   */
  public record Tokens(String issuer, Duration accessTokenTtl, Duration idTokenTtl,
                       Duration refreshTokenTtl, String keyEncryptionKey, SigningAlgorithm signingAlgorithm,
                       Duration ssoSessionTtl, Duration refreshReuseInterval) {

    public static final SigningAlgorithm DEFAULT_SIGNING_ALGORITHM = SigningAlgorithm.RS256;
    public static final Duration DEFAULT_SSO_SESSION_TTL = Duration.ofHours(8);
    public static final Duration DEFAULT_REFRESH_REUSE_INTERVAL = Duration.ofSeconds(10);

    public Tokens(String issuer, Duration accessTokenTtl, Duration idTokenTtl, Duration refreshTokenTtl,
                  String keyEncryptionKey) {
      this(issuer, accessTokenTtl, idTokenTtl, refreshTokenTtl, keyEncryptionKey, DEFAULT_SIGNING_ALGORITHM,
          DEFAULT_SSO_SESSION_TTL, DEFAULT_REFRESH_REUSE_INTERVAL);
    }

    @Override
    public String toString() {
      return "Tokens[issuer=" + issuer + ", accessTokenTtl=" + accessTokenTtl + ", idTokenTtl=" + idTokenTtl
          + ", refreshTokenTtl=" + refreshTokenTtl + ", signingAlgorithm=" + signingAlgorithm.jose
          + ", ssoSessionTtl=" + ssoSessionTtl + ", refreshReuseInterval=" + refreshReuseInterval
          + ", keyEncryptionKey=***]";
    }
  }

  public record Qr(Duration sessionTtl, Duration ticketTtl, Duration retention) {}

  public record Webhook(Duration maxClockSkew, int maxBodyBytes) {}

  /**
   * @param waitersPerSession browsers waiting on one session (long poll + SSE), across instances
   * @param waitersPerIp browsers waiting from one client IP, across instances
   */
  public record RateLimits(int sessionsPerMinutePerIp, int sessionsPerMinutePerApp, int scansPerMinutePerUser,
                           int waitersPerSession, int waitersPerIp) {

    public static final int DEFAULT_WAITERS_PER_SESSION = 8;
    public static final int DEFAULT_WAITERS_PER_IP = 200;

    public RateLimits(int sessionsPerMinutePerIp, int sessionsPerMinutePerApp, int scansPerMinutePerUser) {
      this(sessionsPerMinutePerIp, sessionsPerMinutePerApp, scansPerMinutePerUser, DEFAULT_WAITERS_PER_SESSION,
          DEFAULT_WAITERS_PER_IP);
    }
  }

  public enum ExchangeAuth { NONE, SECRET }

  /**
   * @param postLogoutRedirectUris where RP-initiated logout may send the browser back to
   * @param signingAlgorithm this application's tokens: its own setting, else {@code tokens.signingAlgorithm}
   */
  public record Application(String appId, String appSecret, String name, List<String> redirectUris,
                            String callbackUrl, List<String> allowedOrigins, List<String> connections,
                            ExchangeAuth exchangeAuth, List<String> postLogoutRedirectUris,
                            SigningAlgorithm signingAlgorithm) {

    /** The client id the administration page logs in as; no configured application may use it. */
    public static final String ADMIN_CLIENT_ID = "scangate-admin";

    public Application {
      postLogoutRedirectUris = List.copyOf(postLogoutRedirectUris);
    }

    public Application(String appId, String appSecret, String name, List<String> redirectUris, String callbackUrl,
                       List<String> allowedOrigins, List<String> connections, ExchangeAuth exchangeAuth) {
      this(appId, appSecret, name, redirectUris, callbackUrl, allowedOrigins, connections, exchangeAuth, List.of(),
          Tokens.DEFAULT_SIGNING_ALGORITHM);
    }

    public boolean enables(String connectionIdentifier) {
      return connections.contains(connectionIdentifier);
    }

    @Override
    public String toString() {
      return "Application[appId=" + appId + ", name=" + name + ", appSecret=***]";
    }
  }

  /** Who may use the administration API and page (CONTRACT section 11). */
  public record Admin(List<String> apiKeys, List<AdminUser> users, Duration auditRetention) {

    public static final Duration DEFAULT_AUDIT_RETENTION = Duration.ofDays(180);
    public static final Admin DEFAULT = new Admin(List.of(), List.of(), DEFAULT_AUDIT_RETENTION);

    public Admin {
      apiKeys = List.copyOf(apiKeys);
      users = List.copyOf(users);
    }

    @Override
    public String toString() {
      return "Admin[apiKeys=" + apiKeys.size() + " (***), users=" + users + ", auditRetention=" + auditRetention + "]";
    }
  }

  public enum AdminUserKind { ID, UNIONID, OPENID }

  /**
   * One entry of {@code admin.users}: a user id (a UUID, lower case), or a WeChat {@code unionid:...}
   * or {@code openid:...} naming the user who has that identity.
   */
  public record AdminUser(AdminUserKind kind, String value) {
    @Override
    public String toString() {
      return kind == AdminUserKind.ID ? value : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + value;
    }
  }

  public enum ConnectionType {
    WECHAT_MP_QRCODE("wechat-mp-qrcode"),
    WECHAT_MINIPROGRAM_QRCODE("wechat-miniprogram-qrcode"),
    WECHAT_MINIPROGRAM("wechat-miniprogram");

    public final String id;

    ConnectionType(String id) {
      this.id = id;
    }

    public static Optional<ConnectionType> of(String id) {
      for (ConnectionType type : values()) {
        if (type.id.equals(id)) return Optional.of(type);
      }
      return Optional.empty();
    }
  }

  public enum MessageMode { PLAIN, COMPATIBLE, SAFE }

  public enum ConfirmMode { DIRECT, LINK }

  public enum ForwardMode { ASYNC, PROXY }

  public enum QrStyle { URL, WXACODE }

  public enum EnvVersion { RELEASE, TRIAL, DEVELOP }

  public enum LinkingMode { NONE, MATCH }

  public enum LinkingField { UNIONID, PHONE }

  public record ForwardTarget(String url, String token, String encodingAesKey, ForwardMode mode) {
    @Override
    public String toString() {
      return "ForwardTarget[url=" + url + ", mode=" + mode + ", token=***, encodingAesKey=***]";
    }
  }

  public record AccountLinking(LinkingMode mode, List<LinkingField> fields) {
    public static final AccountLinking NONE = new AccountLinking(LinkingMode.NONE, List.of());
  }

  public record VerificationFile(String name, String content) {}

  /**
   * A WeChat identity source: one record per type, each with exactly the fields its type has
   * (no nulls standing for "not this type"). Code that cares about the type matches on the
   * record ({@code if (c instanceof OfficialAccountConnection oa)}, or a switch over the sealed
   * interface) instead of comparing {@link ConnectionType}s.
   */
  public sealed interface Connection permits QrConnection, MiniProgramConnection {
    String identifier();

    String displayName();

    String wechatAppId();

    String appSecret();

    boolean loginOnly();

    AccountLinking accountLinking();

    ConnectionType type();
  }

  /** A connection whose login starts with a QR code shown in the browser. */
  public sealed interface QrConnection extends Connection permits OfficialAccountConnection, MiniProgramQrConnection {}

  /** {@code wechat-mp-qrcode}: an Official (service) Account; the user scans its parametric code and follows. */
  public record OfficialAccountConnection(
      String identifier,
      String displayName,
      String wechatAppId,
      String appSecret,
      boolean loginOnly,
      AccountLinking accountLinking,
      String token,
      String encodingAesKey,
      MessageMode messageMode,
      ConfirmMode confirmMode,
      List<ForwardTarget> forwardTo,
      String welcomeMessage) implements QrConnection {

    public OfficialAccountConnection {
      forwardTo = List.copyOf(forwardTo);
    }

    @Override
    public ConnectionType type() {
      return ConnectionType.WECHAT_MP_QRCODE;
    }

    @Override
    public String toString() {
      return "OfficialAccountConnection[identifier=" + identifier + ", wechatAppId=" + wechatAppId
          + ", messageMode=" + messageMode + ", appSecret=***, token=***, encodingAesKey=***]";
    }
  }

  /** {@code wechat-miniprogram-qrcode}: the PC site shows a code, the mini program scans and confirms. */
  public record MiniProgramQrConnection(
      String identifier,
      String displayName,
      String wechatAppId,
      String appSecret,
      boolean loginOnly,
      AccountLinking accountLinking,
      QrStyle qrStyle,
      Path logo,
      String page,
      EnvVersion envVersion,
      VerificationFile verificationFile) implements QrConnection {

    @Override
    public ConnectionType type() {
      return ConnectionType.WECHAT_MINIPROGRAM_QRCODE;
    }

    @Override
    public String toString() {
      return "MiniProgramQrConnection[identifier=" + identifier + ", wechatAppId=" + wechatAppId + ", appSecret=***]";
    }
  }

  /** {@code wechat-miniprogram}: silent login inside the mini program ({@code wx.login} code). */
  public record MiniProgramConnection(
      String identifier,
      String displayName,
      String wechatAppId,
      String appSecret,
      boolean loginOnly,
      AccountLinking accountLinking) implements Connection {

    @Override
    public ConnectionType type() {
      return ConnectionType.WECHAT_MINIPROGRAM;
    }

    @Override
    public String toString() {
      return "MiniProgramConnection[identifier=" + identifier + ", wechatAppId=" + wechatAppId + ", appSecret=***]";
    }
  }

  /**
   * The same configuration on other Redis and PostgreSQL servers (start-dev's, or a test's); the
   * Redis mode, nodes and master name are kept.
   */
  public ScanGateConfig withServers(String redisUrl, String postgresUrl) {
    return withServers(redis.withUrl(redisUrl), postgresUrl);
  }

  /** The same configuration on these Redis settings and this PostgreSQL server. */
  public ScanGateConfig withServers(RedisSettings redisSettings, String postgresUrl) {
    return new ScanGateConfig(server, redisSettings, new PostgresSettings(postgresUrl, postgres.poolSize()), wechat,
        userPoolId, tokens, qr, webhook, rateLimits, applications, connections, admin);
  }

  /**
   * A configured application, or the built-in {@link Application#ADMIN_CLIENT_ID} client of the
   * administration page (never in {@link #applications()}).
   */
  public Optional<Application> application(String appId) {
    if (Application.ADMIN_CLIENT_ID.equals(appId)) return Optional.of(adminApplication());
    return applications.stream().filter(a -> a.appId().equals(appId)).findFirst();
  }

  /** Path of the administration page; its URL is the admin client's only redirect URI. */
  public static final String ADMIN_PAGE_PATH = "/admin/";

  /**
   * The reserved OIDC client the {@code /admin} page logs in as: public (PKCE S256), redirect URI
   * {@code {publicUrl}/admin/}, every QR code connection, tokens signed like the default.
   */
  public Application adminApplication() {
    List<String> qr = connections.stream().filter(QrConnection.class::isInstance).map(Connection::identifier).toList();
    return new Application(Application.ADMIN_CLIENT_ID, null, "ScanGate administration",
        List.of(server.publicUrl() + ADMIN_PAGE_PATH), null, List.of(), qr, ExchangeAuth.NONE, List.of(),
        tokens == null ? Tokens.DEFAULT_SIGNING_ALGORITHM : tokens.signingAlgorithm());
  }

  public Optional<Connection> connection(String identifier) {
    return connections.stream().filter(c -> c.identifier().equals(identifier)).findFirst();
  }

  /** The connection with this identifier, when it is of the given type. */
  public <T extends Connection> Optional<T> connection(String identifier, Class<T> type) {
    return connection(identifier).filter(type::isInstance).map(type::cast);
  }

  /** An IPv4 or IPv6 network in CIDR notation, e.g. {@code 10.0.0.0/8}. */
  public record Cidr(byte[] network, int prefixLength, String text) {

    public static Cidr parse(String text) {
      int slash = text.indexOf('/');
      String address = slash < 0 ? text : text.substring(0, slash);
      byte[] bytes = InetLiterals.parse(address)
          .orElseThrow(() -> new IllegalArgumentException("not an IP address"));
      int max = bytes.length * 8;
      int prefix = max;
      if (slash >= 0) {
        try {
          prefix = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("prefix length is not a number");
        }
        if (prefix < 0 || prefix > max) throw new IllegalArgumentException("prefix length must be 0-" + max);
      }
      return new Cidr(bytes, prefix, text);
    }

    public boolean contains(String ip) {
      return InetLiterals.parse(ip).map(this::contains).orElse(false);
    }

    public boolean contains(byte[] address) {
      if (address.length != network.length) return false;
      int fullBytes = prefixLength / 8;
      for (int i = 0; i < fullBytes; i++) {
        if (address[i] != network[i]) return false;
      }
      int restBits = prefixLength % 8;
      if (restBits == 0) return true;
      int mask = (0xFF << (8 - restBits)) & 0xFF;
      return (address[fullBytes] & mask) == (network[fullBytes] & mask);
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Parses IP literals without DNS lookups (InetAddress.getByName would resolve host names). */
  static final class InetLiterals {
    private InetLiterals() {}

    static Optional<byte[]> parse(String address) {
      String a = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
      if (a.isEmpty() || !a.matches("[0-9A-Fa-f:.]+")) return Optional.empty();
      if (a.contains(":")) {
        try {
          // URI parsing validates an IPv6 literal without touching DNS.
          String host = URI.create("http://[" + a + "]/").getHost();
          if (host == null) return Optional.empty();
          return Optional.of(java.net.InetAddress.getByName(host).getAddress());
        } catch (Exception e) {
          return Optional.empty();
        }
      }
      String[] parts = a.split("\\.", -1);
      if (parts.length != 4) return Optional.empty();
      byte[] bytes = new byte[4];
      for (int i = 0; i < 4; i++) {
        if (parts[i].isEmpty() || parts[i].length() > 3) return Optional.empty();
        int v = Integer.parseInt(parts[i]);
        if (v > 255) return Optional.empty();
        bytes[i] = (byte) v;
      }
      return Optional.of(bytes);
    }
  }
}
