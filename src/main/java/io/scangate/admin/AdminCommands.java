package io.scangate.admin;

import io.scangate.config.ConfigException;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig;
import io.scangate.db.Postgres;
import io.scangate.error.ApiException;
import io.scangate.identity.UserStore;
import io.scangate.login.SsoSessions;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code scangate users list|show|block|unblock|logout} and {@code scangate audit} (CONTRACT
 * section 11): the same {@link Administration} the API uses, run in this process against the
 * configured PostgreSQL and Redis, so a block or log out reaches running instances at once (the
 * revocation is announced on their Redis channel). Output: JSON lines on stdout. Exit status 0,
 * 1 when the action failed (unknown user, servers unreachable), 2 for bad usage or configuration.
 */
public final class AdminCommands {

  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;
  private static final long TIMEOUT_SECONDS = 60;

  private AdminCommands() {}

  /** Loads the configuration, connects, runs {@code action} and prints its lines; closes everything. */
  static int run(CommandLine.Model.CommandSpec spec, Path configFile, Function<Administration, Future<JsonArray>> action) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ScanGateConfig config;
    try {
      config = ConfigLoader.load(configFile, System.getenv(), ConfigLoader.Profile.production());
    } catch (ConfigException e) {
      e.problems().forEach(err::println);
      return EXIT_USAGE;
    }
    Vertx vertx = Vertx.vertx();
    Pool pool = Postgres.pool(vertx, config.postgres());
    Redis redis = RedisClients.create(vertx, config.redis());
    try {
      RedisKeys keys = new RedisKeys(config.redis().keyPrefix());
      Administration administration = new Administration(config, pool, redis, keys, new UserStore(pool),
          new SsoSessions(redis, keys, config.tokens().ssoSessionTtl()));
      JsonArray lines = Postgres.migrate(vertx, config.postgres().url())
          .compose(n -> action.apply(administration))
          .toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      for (int i = 0; i < lines.size(); i++) out.println(lines.getJsonObject(i).encode());
      out.flush();
      return 0;
    } catch (ExecutionException e) {
      ApiException api = ApiException.from(e.getCause());
      err.println("scangate: " + (api != null ? api.code() + ": " + api.getMessage() : rootMessage(e)));
      return api != null && api.status() == 400 ? EXIT_USAGE : EXIT_FAILED;
    } catch (Exception e) {
      err.println("scangate: the command did not finish: " + rootMessage(e));
      return EXIT_FAILED;
    } finally {
      try {
        redis.close();
        pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getMessage() != null ? t.getMessage().replaceAll("\\s+", " ").trim() : t.getClass().getSimpleName();
  }

  private static JsonObject cli() {
    return Administration.actor("cli", null);
  }

  private static Future<JsonArray> one(JsonObject line) {
    return Future.succeededFuture(new JsonArray().add(line));
  }

  /** What every command about one user takes: the configuration file and the user's id. */
  static final class OneUser {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file.")
    Path config;
    @Parameters(paramLabel = "USER_ID", description = "The user's id.")
    String userId;
  }

  @Command(name = "users", mixinStandardHelpOptions = true, description = "Find, block, unblock and log out users.",
      subcommands = {Users.ListUsers.class, Users.Show.class, Users.Block.class, Users.Unblock.class, Users.Logout.class})
  public static final class Users implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getErr().println("scangate: users needs a command: list, show, block, unblock, logout. Try 'scangate users --help'.");
      return EXIT_USAGE;
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
        description = {"Users, newest first, one JSON object per line. --query matches the id, phone, unionid or an",
            "openid exactly, or the start of the nickname. With more to read, the last line is {\"nextCursor\": ...}."})
    static final class ListUsers implements Callable<Integer> {
      @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file.")
      Path config;
      @Option(names = "--query", paramLabel = "Q", description = "Search text.")
      String query;
      @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N users (1-100, default 100).")
      int limit;
      @Option(names = "--cursor", paramLabel = "C", description = "Continue after a previous page.")
      String cursor;
      @CommandLine.Spec
      CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        return run(spec, config, admin -> admin.listUsers(query, limit, cursor, cli()).map(page -> {
          JsonArray lines = page.getJsonArray("users").copy();
          if (page.getString("nextCursor") != null) lines.add(new JsonObject().put("nextCursor", page.getString("nextCursor")));
          return lines;
        }));
      }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One user, with blocked and each identity's lastLoginAt.")
    static final class Show implements Callable<Integer> {
      @CommandLine.Mixin
      OneUser user;
      @CommandLine.Spec
      CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        return run(spec, user.config, admin -> admin.showUser(user.userId, cli()).compose(AdminCommands::one));
      }
    }

    @Command(name = "block", mixinStandardHelpOptions = true,
        description = {"Block a user: no more logins; every token issued to them stops working on every instance",
            "within a second."})
    static final class Block implements Callable<Integer> {
      @CommandLine.Mixin
      OneUser user;
      @CommandLine.Spec
      CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        return run(spec, user.config, admin -> admin.block(user.userId, cli())
            .compose(v -> one(new JsonObject().put("id", user.userId).put("blocked", true))));
      }
    }

    @Command(name = "unblock", mixinStandardHelpOptions = true, description = "Let a blocked user log in again.")
    static final class Unblock implements Callable<Integer> {
      @CommandLine.Mixin
      OneUser user;
      @CommandLine.Spec
      CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        return run(spec, user.config, admin -> admin.unblock(user.userId, cli())
            .compose(v -> one(new JsonObject().put("id", user.userId).put("blocked", false))));
      }
    }

    @Command(name = "logout", mixinStandardHelpOptions = true,
        description = "Log a user out everywhere: every refresh and access token of theirs is revoked.")
    static final class Logout implements Callable<Integer> {
      @CommandLine.Mixin
      OneUser user;
      @CommandLine.Spec
      CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        return run(spec, user.config, admin -> admin.logout(user.userId, cli())
            .compose(v -> one(new JsonObject().put("id", user.userId).put("loggedOut", true))));
      }
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true,
      description = {"Audit events, newest first, one JSON object per line (an export: every matching event",
          "unless --limit caps it)."})
  public static final class Audit implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file.")
    Path config;
    @Option(names = "--user", paramLabel = "USER_ID", description = "Only this user's events.")
    String user;
    @Option(names = "--type", paramLabel = "TYPE", description = "Only events of this type (login, user_blocked, ...).")
    String type;
    @Option(names = "--since", paramLabel = "TIME", description = "From this ISO-8601 time on.")
    String since;
    @Option(names = "--until", paramLabel = "TIME", description = "Before this ISO-8601 time.")
    String until;
    @Option(names = "--limit", paramLabel = "N", description = "At most N events.")
    Integer limit;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (limit != null && limit < 1) {
        spec.commandLine().getErr().println("scangate: --limit must be at least 1");
        return EXIT_USAGE;
      }
      JsonObject filter = new JsonObject().put("user", user).put("type", type).put("since", since).put("until", until)
          .put("limit", String.valueOf(limit == null ? AuditLog.MAX_LIMIT : Math.min(limit, AuditLog.MAX_LIMIT)));
      return run(spec, config, admin -> admin.recordAction("export_audit", cli(), null)
          .compose(v -> pages(admin, filter, new JsonArray())));
    }

    private Future<JsonArray> pages(Administration admin, JsonObject filter, JsonArray sofar) {
      return admin.audit(filter).compose(page -> {
        JsonArray events = page.getJsonArray("events");
        for (int i = 0; i < events.size() && (limit == null || sofar.size() < limit); i++) sofar.add(events.getJsonObject(i));
        String next = page.getString("nextCursor");
        if (next == null || (limit != null && sofar.size() >= limit)) return Future.succeededFuture(sofar);
        return pages(admin, filter.copy().put("cursor", next), sofar);
      });
    }
  }
}
