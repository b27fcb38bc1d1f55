package io.scangate;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.config.ConfigException;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig;
import io.scangate.dev.DevServers;
import io.scangate.dev.FreePort;
import io.scangate.ops.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The command line of CONTRACT section 1. Exit status: 0 after a clean stop, 1 when the gateway
 * cannot start (an unreachable server, a taken port), 2 for bad usage or bad configuration.
 */
@Command(name = "scangate", mixinStandardHelpOptions = true, version = "ScanGate 0.1.0",
    description = "Self-hosted WeChat login gateway.",
    subcommands = {Launcher.Start.class, Launcher.StartDev.class, Launcher.Keys.class,
        io.scangate.admin.AdminCommands.Users.class, io.scangate.admin.AdminCommands.Audit.class},
    footer = {"",
        "Commands and their options:",
        "  start --config FILE                              production (JSON logs; no sandbox, no embedded servers)",
        "  start-dev [--config FILE] [--port N] [--host H]  development on 127.0.0.1:8080 (--port 0: a free port)",
        "  keys rotate --config FILE                        add a token signing key",
        "  users list|show|block|unblock|logout --config FILE [ID]  administration, JSON lines (docs/administration.md)",
        "  audit --config FILE [--user ID] [--type T] [--since T] [--until T] [--limit N]  the audit log, JSON lines",
        "  Each command also takes -h/--help.",
        "",
        "start-dev runs embedded Redis and PostgreSQL unless SCANGATE_REDIS_URL / SCANGATE_POSTGRES_URL name servers,",
        "and uses conf/dev.yaml unless --config names another file.",
        "Config values may reference environment variables: $${NAME} and $${NAME:-default}.",
        "Exit status: 0 stopped cleanly, 1 could not start (server unreachable, port taken), 2 bad usage or configuration."})
public final class Launcher implements Callable<Integer> {

  static final int EXIT_START_FAILED = 1;
  static final int EXIT_USAGE = 2;
  static final String LOG_FORMAT_PROPERTY = "scangate.log.format";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int status = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    System.exit(status);
  }

  /** Runs a command; long-running commands return only after they were stopped. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Launcher());
    cli.setOut(out).setErr(err);
    cli.setUsageHelpWidth(120);
    cli.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
    cli.setParameterExceptionHandler((ex, arguments) -> {
      ex.getCommandLine().getErr().println("scangate: " + ex.getMessage() + ". Try 'scangate --help'.");
      return EXIT_USAGE;
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      commandLine.getErr().println("scangate: " + ScanGate.rootMessage(ex));
      return EXIT_START_FAILED;
    });
    return cli.execute(args);
  }

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("scangate: a command is required. Try 'scangate --help'.");
    return EXIT_USAGE;
  }

  @Command(name = "start", mixinStandardHelpOptions = true,
      description = "Run in production: no sandbox, no embedded servers; JSON logs.")
  static final class Start implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file.")
    Path config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      System.setProperty(LOG_FORMAT_PROPERTY, "JSON");
      PrintWriter err = spec.commandLine().getErr();
      ScanGateConfig cfg = loadOrReport(config, err);
      if (cfg == null) return EXIT_USAGE;
      return serve(cfg, ScanGate.Options.production(null), null, spec.commandLine().getOut(), err);
    }
  }

  @Command(name = "start-dev", mixinStandardHelpOptions = true,
      description = "Run for development on loopback, with embedded servers and the WeChat sandbox.",
      footer = {"", "Embedded Redis and PostgreSQL unless SCANGATE_REDIS_URL / SCANGATE_POSTGRES_URL name servers to use."})
  static final class StartDev implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "The configuration file (default: conf/dev.yaml).")
    Path config;

    @Option(names = "--port", paramLabel = "N", description = "The port (0 picks a free one; default: the file's, else 8080).")
    Integer port;

    @Option(names = "--host", paramLabel = "H", description = "The address to bind (default 127.0.0.1).")
    String host;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      System.setProperty(LOG_FORMAT_PROPERTY, "TEXT");
      PrintWriter err = spec.commandLine().getErr();
      if (port != null && (port < 0 || port > 65535)) {
        err.println("scangate: --port must be 0-65535. Try 'scangate --help'.");
        return EXIT_USAGE;
      }
      ScanGateConfig cfg;
      try {
        cfg = loadDevConfig();
      } catch (ConfigException e) {
        e.problems().forEach(err::println);
        return EXIT_USAGE;
      }
      DevServers servers;
      try {
        servers = DevServers.start(System.getenv());
      } catch (Exception | NoClassDefFoundError e) {
        // The slim production jar (the container image's) carries no embedded servers.
        String why = e instanceof NoClassDefFoundError
            ? "this jar has no embedded servers (use scangate.jar, or set " + DevServers.REDIS_ENV + " and " + DevServers.POSTGRES_ENV + ")"
            : ScanGate.rootMessage(e);
        err.println("scangate: could not start the embedded servers: " + why);
        return EXIT_START_FAILED;
      }
      // SCANGATE_REDIS_URL keeps the file's redis.mode, nodes and masterName; the embedded Redis is one plain server.
      cfg = cfg.withServers(servers.redisEmbedded()
          ? new ScanGateConfig.RedisSettings(servers.redisUrl(), cfg.redis().keyPrefix())
          : cfg.redis().withUrl(servers.redisUrl()), servers.postgresUrl());
      return serve(cfg, ScanGate.Options.dev(null), servers, spec.commandLine().getOut(), err);
    }

    private ScanGateConfig loadDevConfig() throws ConfigException, IOException {
      var profile = ConfigLoader.Profile.dev(host, port, FreePort::find);
      if (config != null) return ConfigLoader.load(config, System.getenv(), profile);
      Path local = Path.of("conf", "dev.yaml");
      if (Files.isReadable(local)) return ConfigLoader.load(local, System.getenv(), profile);
      // Run from anywhere: the jar carries the same dev.yaml.
      try (InputStream bundled = Launcher.class.getResourceAsStream("/conf/dev.yaml")) {
        if (bundled == null) throw new ConfigException(java.util.List.of("conf/dev.yaml: not found"));
        return ConfigLoader.parse(new String(bundled.readAllBytes(), StandardCharsets.UTF_8), null, System.getenv(), profile);
      }
    }
  }

  @Command(name = "keys", mixinStandardHelpOptions = true, description = "Manage token signing keys.",
      subcommands = {Keys.Rotate.class})
  static final class Keys implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getErr().println("scangate: keys needs a command: rotate. Try 'scangate keys --help'.");
      return EXIT_USAGE;
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
        description = {"Add a new token signing key to PostgreSQL. Every instance signs new tokens with it once it",
            "reloads its keys (within 30 s); older keys stay in the JWK set until their tokens have expired."})
    static final class Rotate implements Callable<Integer> {

      @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file.")
      Path config;

      @CommandLine.Spec
      CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ScanGateConfig cfg = loadOrReport(config, err);
        if (cfg == null) return EXIT_USAGE;
        Vertx vertx = Vertx.vertx();
        io.vertx.sqlclient.Pool pool = io.scangate.db.Postgres.pool(vertx, cfg.postgres());
        try {
          java.util.List<String> kids = io.scangate.db.Postgres.migrate(vertx, cfg.postgres().url())
              .compose(n -> io.scangate.token.TokenManager.rotateKeys(vertx, pool, cfg))
              .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
          spec.commandLine().getOut().println("Added signing key" + (kids.size() > 1 ? "s " : " ") + String.join(", ", kids)
              + "; running instances sign new tokens with it within 30 seconds.");
          return 0;
        } catch (ExecutionException e) {
          err.println("scangate: key rotation failed: " + ScanGate.rootMessage(e));
          return EXIT_START_FAILED;
        } catch (Exception e) {
          err.println("scangate: key rotation did not finish: " + ScanGate.rootMessage(e));
          return EXIT_START_FAILED;
        } finally {
          try {
            pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
          } catch (Exception ignored) {
            // exiting anyway
          }
        }
      }
    }
  }

  /** The production configuration, or null after printing one line per problem. */
  static ScanGateConfig loadOrReport(Path file, PrintWriter err) {
    try {
      return ConfigLoader.load(file, System.getenv(), ConfigLoader.Profile.production());
    } catch (ConfigException e) {
      e.problems().forEach(err::println);
      return null;
    }
  }

  /** Starts the gateway, prints the ready line, and waits for SIGTERM / Ctrl-C. */
  static int serve(ScanGateConfig config, ScanGate.Options options, DevServers servers, PrintWriter out, PrintWriter err) {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.vertxWithMetrics(registry, new VertxOptions());
    ScanGate gateway;
    try {
      gateway = ScanGate.start(vertx, config, new ScanGate.Options(options.dev(), registry, options.httpInstances()))
          .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      err.println("scangate: " + (e.getCause() instanceof StartupException s ? s.getMessage() : ScanGate.rootMessage(e)));
      stop(vertx, null, servers);
      return EXIT_START_FAILED;
    } catch (Exception e) {
      err.println("scangate: start-up did not finish: " + ScanGate.rootMessage(e));
      stop(vertx, null, servers);
      return EXIT_START_FAILED;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop(vertx, gateway, servers);
      stopped.countDown();
    }, "scangate-shutdown"));
    String host = config.server().host().equals("0.0.0.0") ? "0.0.0.0" : config.server().host();
    String shownHost = host.contains(":") ? "[" + host + "]" : host;
    out.println("ScanGate ready on http://" + shownHost + ":" + gateway.port());
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static void stop(Vertx vertx, ScanGate gateway, DevServers servers) {
    try {
      if (gateway != null) {
        // SIGTERM: stop taking work and let in-flight requests finish (bounded by server.shutdownGracePeriod), then stop.
        long graceSeconds = gateway.infrastructure().config().server().shutdownGracePeriod().toSeconds();
        try {
          gateway.drain().toCompletionStage().toCompletableFuture().get(graceSeconds + 5, TimeUnit.SECONDS);
        } catch (Exception e) {
          // stop anyway
        }
        gateway.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // stopping anyway
    } finally {
      if (servers != null) servers.close();
    }
  }
}
