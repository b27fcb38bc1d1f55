package io.scangate.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.scangate.config.ScanGateConfig.AccountLinking;
import io.scangate.config.ScanGateConfig.Admin;
import io.scangate.config.ScanGateConfig.AdminUser;
import io.scangate.config.ScanGateConfig.AdminUserKind;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.Cidr;
import io.scangate.config.ScanGateConfig.ConfirmMode;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.config.ScanGateConfig.ConnectionType;
import io.scangate.config.ScanGateConfig.EnvVersion;
import io.scangate.config.ScanGateConfig.ExchangeAuth;
import io.scangate.config.ScanGateConfig.ForwardMode;
import io.scangate.config.ScanGateConfig.ForwardTarget;
import io.scangate.config.ScanGateConfig.LinkingField;
import io.scangate.config.ScanGateConfig.LinkingMode;
import io.scangate.config.ScanGateConfig.MessageMode;
import io.scangate.config.ScanGateConfig.QrStyle;
import io.scangate.config.ScanGateConfig.RedisMode;
import io.scangate.config.ScanGateConfig.RedisSettings;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.scangate.config.ScanGateConfig.VerificationFile;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration (CONTRACT section 2) into {@link ScanGateConfig}, expanding
 * {@code ${NAME}} and {@code ${NAME:-default}} environment references, and validates all of it
 * at once. Any problem means a {@link ConfigException} listing every problem by field path.
 */
public final class ConfigLoader {

  static final Pattern IDENTIFIER = Pattern.compile("[a-z0-9-]{1,31}");
  static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9]{3,32}");
  static final Pattern AES_KEY = Pattern.compile("[A-Za-z0-9]{43}");
  static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  static final Pattern WECHAT_APP_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  static final Pattern USER_POOL_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  static final Pattern VERIFICATION_FILE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}\\.txt");
  static final Pattern MINI_PROGRAM_PAGE = Pattern.compile("[A-Za-z0-9_/.-]{1,128}");
  static final Pattern KEY_PREFIX = Pattern.compile("[A-Za-z0-9_:.{}-]{0,64}");
  static final Pattern REDIS_MASTER_NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
  static final Pattern WECHAT_USER_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  /** {@code start} refuses a shorter {@code tokens.keyEncryptionKey} (CONTRACT section 1). */
  static final int MIN_KEY_ENCRYPTION_KEY_LENGTH = 32;
  /** {@code start} refuses shorter admin API keys: they are bearer secrets for the whole user base. */
  static final int MIN_ADMIN_API_KEY_LENGTH = 16;

  static final String WECHAT_API = "https://api.weixin.qq.com";
  /** Only for start-dev, when its file sets no key: never protects anything real. */
  public static final String DEV_KEY_ENCRYPTION_KEY = "scangate-start-dev-key-encryption-key-not-secret";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** What the command being run decides: production ({@code start}) or development ({@code start-dev}). */
  public record Profile(boolean dev, String hostOverride, Integer portOverride, IntSupplier freePort) {

    public static Profile production() {
      return new Profile(false, null, null, null);
    }

    /** {@code start-dev}: bound to loopback, with publicUrl and the WeChat API derived from the bound address. */
    public static Profile dev(String hostOverride, Integer portOverride, IntSupplier freePort) {
      return new Profile(true, hostOverride, portOverride, freePort);
    }
  }

  private ConfigLoader() {}

  public static ScanGateConfig load(Path file, Map<String, String> env, Profile profile) throws ConfigException {
    String yaml;
    try {
      yaml = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException(List.of(file + ": cannot read the configuration file (" + e.getClass().getSimpleName() + ")"));
    }
    Path baseDir = file.toAbsolutePath().getParent();
    return parse(yaml, baseDir, env, profile);
  }

  public static ScanGateConfig parse(String yaml, Path baseDir, Map<String, String> env, Profile profile)
      throws ConfigException {
    JsonNode root;
    try {
      root = yaml.isBlank() ? YAML.createObjectNode() : YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
      throw new ConfigException(List.of("(file): not valid YAML" + where));
    }
    List<String> problems = new ArrayList<>();
    ScanGateConfig config = new ConfigLoader.Reader(env, problems, profile, baseDir).read(new Section("", root, env, problems));
    if (!problems.isEmpty()) throw new ConfigException(problems);
    return config;
  }

  private record Reader(Map<String, String> env, List<String> problems, Profile profile, Path baseDir) {

    ScanGateConfig read(Section root) {
      ScanGateConfig.Server server = server(root.section("server"));
      RedisSettings redisSettings = redis(root.section("redis"));

      Section postgres = root.section("postgres");
      var postgresSettings = new ScanGateConfig.PostgresSettings(
          url(postgres, "url", "postgresql://postgres@127.0.0.1:5432/scangate", Set.of("postgresql", "postgres")),
          postgres.integer("poolSize", 8, 1, 200));
      postgres.rejectUnknownFields();

      Section wechat = root.section("wechat");
      String defaultApi = profile.dev() && server.publicUrl() != null
          ? "http://" + hostForUrl(server.host()) + ":" + server.port() + "/sandbox/wechat"
          : WECHAT_API;
      var wechatSettings = new ScanGateConfig.WeChat(trimSlash(url(wechat, "apiBaseUrl", defaultApi, Set.of("http", "https"))));
      wechat.rejectUnknownFields();

      String userPoolId = root.matching("userPoolId", "default", USER_POOL_ID, "must be 1-64 characters [A-Za-z0-9_-]");

      Section tokens = root.section("tokens");
      Duration minute = Duration.ofMinutes(1);
      var tokensSettings = new ScanGateConfig.Tokens(
          trimSlash(url(tokens, "issuer", server.publicUrl(), Set.of("http", "https"))),
          tokens.duration("accessTokenTtl", Duration.ofHours(2), minute, Duration.ofDays(1)),
          tokens.duration("idTokenTtl", Duration.ofHours(2), minute, Duration.ofDays(1)),
          tokens.duration("refreshTokenTtl", Duration.ofDays(30), Duration.ofHours(1), Duration.ofDays(365)),
          keyEncryptionKey(tokens),
          signingAlgorithm(tokens, ScanGateConfig.Tokens.DEFAULT_SIGNING_ALGORITHM),
          tokens.duration("ssoSessionTtl", ScanGateConfig.Tokens.DEFAULT_SSO_SESSION_TTL, minute, Duration.ofDays(30)),
          tokens.duration("refreshReuseInterval", ScanGateConfig.Tokens.DEFAULT_REFRESH_REUSE_INTERVAL, Duration.ZERO,
              Duration.ofMinutes(5)));
      tokens.rejectUnknownFields();

      Section qr = root.section("qr");
      var qrSettings = new ScanGateConfig.Qr(
          // WeChat's parametric QR codes live at most 30 days.
          qr.duration("sessionTtl", Duration.ofMinutes(2), Duration.ofSeconds(1), Duration.ofDays(30)),
          qr.duration("ticketTtl", Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofHours(1)),
          qr.duration("retention", Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofDays(1)));
      qr.rejectUnknownFields();

      Section webhook = root.section("webhook");
      var webhookSettings = new ScanGateConfig.Webhook(
          webhook.duration("maxClockSkew", Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofHours(1)),
          webhook.integer("maxBodyBytes", 65536, 1024, 10 * 1024 * 1024));
      webhook.rejectUnknownFields();

      Section limits = root.section("rateLimits");
      var rateLimits = new ScanGateConfig.RateLimits(
          limits.integer("sessionsPerMinutePerIp", 30, 1, 1_000_000),
          limits.integer("sessionsPerMinutePerApp", 600, 1, 10_000_000),
          limits.integer("scansPerMinutePerUser", 30, 1, 1_000_000),
          limits.integer("waitersPerSession", ScanGateConfig.RateLimits.DEFAULT_WAITERS_PER_SESSION, 1, 10_000),
          limits.integer("waitersPerIp", ScanGateConfig.RateLimits.DEFAULT_WAITERS_PER_IP, 1, 1_000_000));
      limits.rejectUnknownFields();

      List<Connection> connections = root.sections("connections", this::connection);
      checkUnique(root, "connections", connections.stream().map(Connection::identifier).toList(), "identifier");
      Set<String> known = new HashSet<>(connections.stream().map(Connection::identifier).toList());
      List<Application> applications = root.sections("applications",
          s -> application(s, connections, known, tokensSettings.signingAlgorithm()));
      checkUnique(root, "applications", applications.stream().map(Application::appId).toList(), "appId");
      Admin admin = admin(root.section("admin"));
      root.rejectUnknownFields();

      return new ScanGateConfig(server, redisSettings, postgresSettings, wechatSettings, userPoolId, tokensSettings,
          qrSettings, webhookSettings, rateLimits, applications, connections, admin);
    }

    private ScanGateConfig.Server server(Section s) {
      // The command line wins over the file, but the file's values are still checked.
      String fileHost = s.text("host", profile.dev() ? "127.0.0.1" : "0.0.0.0");
      int filePort = s.integer("port", 8080, 0, 65535);
      String host = profile.hostOverride() != null ? profile.hostOverride() : fileHost;
      int port = profile.portOverride() != null ? profile.portOverride() : filePort;
      Integer metricsPort = s.optionalInteger("metricsPort", 1, 65535);
      if (metricsPort != null && metricsPort == port) s.problem("metricsPort", "must differ from server.port");
      if (port == 0 && profile.freePort() != null) port = profile.freePort().getAsInt();
      String publicUrl = s.has("publicUrl")
          ? trimSlash(url(s, "publicUrl", null, Set.of("http", "https")))
          : profile.dev() ? "http://" + hostForUrl(host) + ":" + port : null;
      if (publicUrl == null && !s.has("publicUrl")) s.problem("publicUrl", "is required");
      List<Cidr> proxies = new ArrayList<>();
      List<String> cidrs = s.strings("trustedProxies", List.of());
      for (int i = 0; i < cidrs.size(); i++) {
        try {
          proxies.add(Cidr.parse(cidrs.get(i).trim()));
        } catch (IllegalArgumentException e) {
          s.problem("trustedProxies[" + i + "]", "must be an IP address or CIDR such as 10.0.0.0/8 (" + e.getMessage() + ")");
        }
      }
      Duration grace = s.duration("shutdownGracePeriod", ScanGateConfig.Server.DEFAULT_SHUTDOWN_GRACE, Duration.ZERO,
          Duration.ofMinutes(5));
      Duration readTimeout = s.duration("readTimeout", ScanGateConfig.Server.DEFAULT_READ_TIMEOUT, Duration.ofSeconds(1),
          Duration.ofMinutes(5));
      Duration headerTimeout = s.duration("headerTimeout", ScanGateConfig.Server.DEFAULT_HEADER_TIMEOUT, Duration.ofSeconds(1),
          Duration.ofMinutes(5));
      s.rejectUnknownFields();
      return new ScanGateConfig.Server(host, port, publicUrl, List.copyOf(proxies), metricsPort, grace, readTimeout, headerTimeout);
    }

    private RedisSettings redis(Section s) {
      RedisMode mode = s.choice("mode", RedisMode.STANDALONE, RedisMode.class);
      boolean standalone = mode == RedisMode.STANDALONE;
      String url = url(s, "url", "redis://127.0.0.1:6379", Set.of("redis", "rediss", "unix"));
      if (!standalone && url != null && url.startsWith("unix:")) {
        s.problem("url", "must be a redis:// or rediss:// URL in " + mode.name().toLowerCase(Locale.ROOT) + " mode");
      }
      List<String> nodes = s.strings("nodes", List.of(),
          node -> isUrl(node, Set.of("redis", "rediss")) ? null : "must be a redis:// or rediss:// URL");
      if (standalone && s.has("nodes") && !nodes.isEmpty()) s.problem("nodes", "only applies to modes cluster and sentinel");
      // The contract's own example sets masterName with mode standalone: accepted there, and ignored.
      String masterName = s.matching("masterName", null, REDIS_MASTER_NAME, "must be 1-128 characters [A-Za-z0-9_.:-]");
      if (mode == RedisMode.SENTINEL && masterName == null && !s.has("masterName")) {
        s.problem("masterName", "is required when mode is sentinel");
      }
      String keyPrefix = s.matching("keyPrefix", "scangate:", KEY_PREFIX, "must be at most 64 characters [A-Za-z0-9_:.{}-]");
      if (mode == RedisMode.CLUSTER && (keyPrefix.contains("{") || keyPrefix.contains("}"))) {
        s.problem("keyPrefix", "must not contain { or } in cluster mode (a hash tag would put every key in one slot)");
      }
      s.rejectUnknownFields();
      return new RedisSettings(url, keyPrefix, mode, nodes, masterName);
    }

    private SigningAlgorithm signingAlgorithm(Section s, SigningAlgorithm defaultValue) {
      String name = s.text("signingAlgorithm", null);
      if (name == null) return defaultValue;
      Optional<SigningAlgorithm> algorithm = SigningAlgorithm.of(name);
      if (algorithm.isEmpty()) s.problem("signingAlgorithm", "must be one of " + SigningAlgorithm.choices());
      return algorithm.orElse(defaultValue);
    }

    private Admin admin(Section s) {
      Set<String> seenKeys = new HashSet<>();
      List<String> apiKeys = s.strings("apiKeys", List.of(), key -> {
        if (key.isEmpty()) return "must not be empty";
        if (!profile.dev() && key.length() < MIN_ADMIN_API_KEY_LENGTH) {
          return "must be at least " + MIN_ADMIN_API_KEY_LENGTH + " characters (use 32+ random characters)";
        }
        return seenKeys.add(key) ? null : "is listed twice";
      });
      Set<AdminUser> seenUsers = new HashSet<>();
      List<String> users = s.strings("users", List.of(), user -> {
        AdminUser parsed = adminUser(user);
        if (parsed == null) return "must be a user id (a UUID), unionid:... or openid:...";
        return seenUsers.add(parsed) ? null : "is listed twice";
      });
      Duration retention = s.duration("auditRetention", Admin.DEFAULT_AUDIT_RETENTION, Duration.ofDays(1),
          Duration.ofDays(3650));
      s.rejectUnknownFields();
      return new Admin(apiKeys, users.stream().map(ConfigLoader::adminUser).toList(), retention);
    }

    private String keyEncryptionKey(Section tokens) {
      String kek = tokens.text("keyEncryptionKey").orElse(null);
      if (kek == null || kek.isEmpty()) {
        // start-dev makes its own keys and may as well use a fixed, published key to wrap them.
        if (profile.dev()) return DEV_KEY_ENCRYPTION_KEY;
        if (!tokens.has("keyEncryptionKey")) tokens.problem("keyEncryptionKey", "is required (it encrypts signing keys at rest)");
        else if (kek != null) tokens.problem("keyEncryptionKey", "must not be empty");
        return null;
      }
      if (!profile.dev()) {
        // CONTRACT section 1: start refuses a short key, and start-dev's published one.
        if (kek.equals(DEV_KEY_ENCRYPTION_KEY)) {
          tokens.problem("keyEncryptionKey", "must not be start-dev's built-in key (it is public)");
          return null;
        }
        if (kek.length() < MIN_KEY_ENCRYPTION_KEY_LENGTH) {
          tokens.problem("keyEncryptionKey", "must be at least " + MIN_KEY_ENCRYPTION_KEY_LENGTH + " characters");
          return null;
        }
      }
      return kek;
    }

    private Connection connection(Section s) {
      String identifier = s.matching("identifier", null, IDENTIFIER, "must be 1-31 characters [a-z0-9-]");
      if (identifier == null && !s.has("identifier")) s.problem("identifier", "is required");
      ConnectionType type = null;
      String typeName = s.text("type").orElse(null);
      if (typeName == null) {
        s.problem("type", "is required");
      } else {
        type = ConnectionType.of(typeName).orElse(null);
        if (type == null) {
          s.problem("type", "must be one of wechat-mp-qrcode | wechat-miniprogram-qrcode | wechat-miniprogram");
        }
      }
      String displayName = s.text("displayName", null);
      String wechatAppId = s.matching("wechatAppId", null, WECHAT_APP_ID, "must be 1-64 characters [A-Za-z0-9_-]");
      if (wechatAppId == null && !s.has("wechatAppId")) s.problem("wechatAppId", "is required");
      String appSecret = s.required("appSecret");
      boolean loginOnly = s.bool("loginOnly", false);
      AccountLinking linking = accountLinking(s.section("accountLinking"));

      boolean mp = type == ConnectionType.WECHAT_MP_QRCODE;
      boolean miniQr = type == ConnectionType.WECHAT_MINIPROGRAM_QRCODE;
      String token = null;
      String aesKey = null;
      MessageMode messageMode = null;
      ConfirmMode confirmMode = null;
      List<ForwardTarget> forwardTo = List.of();
      String welcome = null;
      if (mp) {
        token = s.matching("token", null, TOKEN, "must be 3-32 characters [A-Za-z0-9]");
        if (token == null && !s.has("token")) s.problem("token", "is required");
        messageMode = s.choice("messageMode", MessageMode.SAFE, MessageMode.class);
        aesKey = s.text("encodingAesKey", "");
        if (aesKey.isEmpty()) {
          if (messageMode != MessageMode.PLAIN) s.problem("encodingAesKey", "is required unless messageMode is plain");
        } else if (!AES_KEY.matcher(aesKey).matches()) {
          s.problem("encodingAesKey", "must be 43 characters [A-Za-z0-9]");
        }
        confirmMode = s.choice("confirmMode", ConfirmMode.DIRECT, ConfirmMode.class);
        forwardTo = s.sections("forwardTo", this::forwardTarget);
        welcome = s.text("welcomeMessage", null);
        if (welcome != null && welcome.length() > 600) s.problem("welcomeMessage", "must be at most 600 characters");
      } else {
        for (String field : List.of("token", "encodingAesKey", "messageMode", "confirmMode", "forwardTo", "welcomeMessage")) {
          onlyFor(s, field, "wechat-mp-qrcode", type != null);
        }
      }

      QrStyle qrStyle = null;
      Path logo = null;
      String page = null;
      EnvVersion envVersion = null;
      VerificationFile verificationFile = null;
      if (miniQr) {
        qrStyle = s.choice("qrStyle", QrStyle.URL, QrStyle.class);
        String logoPath = s.text("logo", null);
        if (logoPath != null && !logoPath.isEmpty()) {
          logo = resolve(logoPath);
        }
        page = s.matching("page", "pages/login/index", MINI_PROGRAM_PAGE, "must be a mini program page path such as pages/login/index");
        envVersion = s.choice("envVersion", EnvVersion.RELEASE, EnvVersion.class);
        Section file = s.section("verificationFile");
        if (s.has("verificationFile")) {
          String name = file.matching("name", null, VERIFICATION_FILE_NAME, "must be a file name like abc123.txt");
          if (name == null && !file.has("name")) file.problem("name", "is required");
          String content = file.required("content");
          if (name != null && content != null) verificationFile = new VerificationFile(name, content);
        }
        file.rejectUnknownFields();
      } else {
        for (String field : List.of("qrStyle", "logo", "page", "envVersion", "verificationFile")) {
          onlyFor(s, field, "wechat-miniprogram-qrcode", type != null);
        }
      }
      if (identifier == null || type == null) return null;
      return switch (type) {
        case WECHAT_MP_QRCODE -> new ScanGateConfig.OfficialAccountConnection(identifier, displayName, wechatAppId, appSecret,
            loginOnly, linking, token, aesKey, messageMode, confirmMode, forwardTo, welcome);
        case WECHAT_MINIPROGRAM_QRCODE -> new ScanGateConfig.MiniProgramQrConnection(identifier, displayName, wechatAppId,
            appSecret, loginOnly, linking, qrStyle, logo, page, envVersion, verificationFile);
        case WECHAT_MINIPROGRAM -> new ScanGateConfig.MiniProgramConnection(identifier, displayName, wechatAppId, appSecret,
            loginOnly, linking);
      };
    }

    private void onlyFor(Section s, String field, String type, boolean typeKnown) {
      if (s.has(field)) {
        s.markRead(field); // not "unknown": the message below says why it is wrong
        if (typeKnown) s.problem(field, "only applies to type " + type);
      }
    }

    private ForwardTarget forwardTarget(Section s) {
      String url = url(s, "url", null, Set.of("http", "https"));
      if (url == null && !s.has("url")) s.problem("url", "is required");
      String token = s.matching("token", null, TOKEN, "must be 3-32 characters [A-Za-z0-9]");
      if (token == null && !s.has("token")) s.problem("token", "is required");
      String aesKey = s.text("encodingAesKey", "");
      if (!aesKey.isEmpty() && !AES_KEY.matcher(aesKey).matches()) {
        s.problem("encodingAesKey", "must be 43 characters [A-Za-z0-9]");
      }
      ForwardMode mode = s.choice("mode", ForwardMode.ASYNC, ForwardMode.class);
      return url == null || token == null ? null : new ForwardTarget(url, token, aesKey.isEmpty() ? null : aesKey, mode);
    }

    private AccountLinking accountLinking(Section s) {
      LinkingMode mode = s.choice("mode", LinkingMode.NONE, LinkingMode.class);
      List<String> names = s.strings("fields", List.of());
      List<LinkingField> fields = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i).trim().toUpperCase(Locale.ROOT);
        try {
          LinkingField field = LinkingField.valueOf(name);
          if (fields.contains(field)) s.problem("fields[" + i + "]", "is listed twice");
          else fields.add(field);
        } catch (IllegalArgumentException e) {
          s.problem("fields[" + i + "]", "must be one of unionid | phone");
        }
      }
      if (mode == LinkingMode.MATCH && fields.isEmpty() && names.isEmpty()) {
        s.problem("fields", "must name at least one of unionid | phone when mode is match");
      }
      s.rejectUnknownFields();
      return new AccountLinking(mode, List.copyOf(fields));
    }

    private Application application(Section s, List<Connection> connections, Set<String> known,
                                    SigningAlgorithm defaultAlgorithm) {
      String appId = s.matching("appId", null, APP_ID, "must be 1-64 characters [A-Za-z0-9_.-]");
      if (appId == null && !s.has("appId")) s.problem("appId", "is required");
      if (Application.ADMIN_CLIENT_ID.equals(appId)) {
        s.problem("appId", Application.ADMIN_CLIENT_ID + " is reserved for the administration page");
      }
      String secret = s.text("appSecret", null);
      if (secret != null && secret.isEmpty()) s.problem("appSecret", "must not be empty");
      String name = s.text("name", appId);
      List<String> redirectUris = s.strings("redirectUris", List.of());
      for (int i = 0; i < redirectUris.size(); i++) {
        String problem = redirectUriProblem(redirectUris.get(i));
        if (problem != null) s.problem("redirectUris[" + i + "]", problem);
      }
      String callbackUrl = s.text("callbackUrl", null);
      if (callbackUrl != null) {
        String problem = redirectUriProblem(callbackUrl);
        if (problem != null) s.problem("callbackUrl", problem);
      }
      List<String> origins = s.strings("allowedOrigins", List.of());
      for (int i = 0; i < origins.size(); i++) {
        if (!isOrigin(origins.get(i))) s.problem("allowedOrigins[" + i + "]", "must be an origin such as https://demo.example.com");
      }
      List<String> enabled = s.strings("connections", connections.stream().map(Connection::identifier).toList());
      for (int i = 0; i < enabled.size(); i++) {
        if (!known.contains(enabled.get(i))) s.problem("connections[" + i + "]", "names no configured connection");
      }
      ExchangeAuth exchangeAuth = s.choice("exchangeAuth", ExchangeAuth.NONE, ExchangeAuth.class);
      if (exchangeAuth == ExchangeAuth.SECRET && secret == null) {
        s.problem("appSecret", "is required when exchangeAuth is secret");
      }
      List<String> postLogout = s.strings("postLogoutRedirectUris", List.of(), ConfigLoader::redirectUriProblem);
      SigningAlgorithm algorithm = signingAlgorithm(s, defaultAlgorithm);
      if (appId == null) return null;
      return new Application(appId, secret, name, redirectUris, callbackUrl,
          origins.stream().map(ConfigLoader::trimSlash).toList(), enabled, exchangeAuth, postLogout, algorithm);
    }

    private String url(Section s, String field, String defaultValue, Set<String> schemes) {
      String value = s.text(field, defaultValue);
      if (value == null) return null;
      if (isUrl(value, schemes)) return value.trim();
      s.problem(field, "must be a " + String.join(" or ", schemes.stream().sorted().map(x -> x + "://").toList()) + " URL");
      return defaultValue;
    }

    private void checkUnique(Section s, String field, List<String> values, String key) {
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < values.size(); i++) {
        if (!seen.add(values.get(i))) s.problem(field + "[" + i + "]." + key, "must be unique");
      }
    }

    private Path resolve(String path) {
      Path p = Path.of(path);
      if (p.isAbsolute() || Files.exists(p) || baseDir == null) return p;
      // conf/logo.png next to conf/scangate.yaml: try relative to the config file's folder and its parent.
      Path besideFile = baseDir.resolve(p);
      if (Files.exists(besideFile)) return besideFile;
      Path parent = baseDir.getParent();
      return parent != null && Files.exists(parent.resolve(p)) ? parent.resolve(p) : p;
    }
  }

  static boolean isUrl(String value, Set<String> schemes) {
    try {
      URI uri = new URI(value.trim());
      return uri.getScheme() != null && schemes.contains(uri.getScheme().toLowerCase(Locale.ROOT))
          && (uri.getHost() != null || "unix".equals(uri.getScheme()));
    } catch (URISyntaxException e) {
      return false;
    }
  }

  /** An {@code admin.users} entry, or null if it is none. */
  static AdminUser adminUser(String entry) {
    String value = entry.trim();
    int colon = value.indexOf(':');
    if (colon > 0) {
      String kind = value.substring(0, colon);
      String id = value.substring(colon + 1);
      if (!WECHAT_USER_ID.matcher(id).matches()) return null;
      return switch (kind) {
        case "unionid" -> new AdminUser(AdminUserKind.UNIONID, id);
        case "openid" -> new AdminUser(AdminUserKind.OPENID, id);
        default -> null;
      };
    }
    if (value.length() != 36) return null; // UUID.fromString accepts shortened forms too
    try {
      return new AdminUser(AdminUserKind.ID, UUID.fromString(value).toString());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static String redirectUriProblem(String uri) {
    try {
      URI u = new URI(uri);
      if (u.getScheme() == null || u.getHost() == null) return "must be an absolute URL";
      if (u.getFragment() != null) return "must not contain a fragment";
      String scheme = u.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("https") && !scheme.equals("http")) return "must be an http:// or https:// URL";
      return null;
    } catch (URISyntaxException e) {
      return "must be an absolute URL";
    }
  }

  static boolean isOrigin(String origin) {
    try {
      URI u = new URI(trimSlash(origin));
      return u.getScheme() != null && u.getHost() != null && (u.getPath() == null || u.getPath().isEmpty())
          && u.getQuery() == null && u.getFragment() == null && u.getUserInfo() == null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  static String trimSlash(String url) {
    if (url == null) return null;
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  static String hostForUrl(String host) {
    if ("0.0.0.0".equals(host)) return "127.0.0.1";
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
