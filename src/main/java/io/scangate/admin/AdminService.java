package io.scangate.admin;

import io.vertx.codegen.annotations.Nullable;
import io.vertx.codegen.annotations.ProxyGen;
import io.vertx.codegen.annotations.VertxGen;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceProxyBuilder;

/**
 * Administration on the event bus ({@value #ADDRESS}), CONTRACT section 11. Callers have
 * authenticated the administrator; {@code actor} says who it is for the audit log:
 * {@code {"by": "api-key:1" | "user:<id>" | "cli", "ip"?}}. Refusals are
 * {@link io.scangate.error.ApiException}s ({@code 404 user_not_found}, {@code 400 invalid_request},
 * {@code 400 invalid_cursor}).
 */
@ProxyGen
@VertxGen
public interface AdminService {

  String ADDRESS = "scangate.admin";

  static AdminService proxy(Vertx vertx) {
    return new ServiceProxyBuilder(vertx).setAddress(ADDRESS).build(AdminService.class);
  }

  /** {@code {"users": [user...], "nextCursor"?}}, newest first; {@code query} as {@code UserStore.list}. */
  Future<JsonObject> listUsers(@Nullable String query, int limit, @Nullable String cursor, JsonObject actor);

  /** One user with {@code blocked} and {@code identities[].lastLoginAt}. */
  Future<JsonObject> showUser(String userId, JsonObject actor);

  /**
   * Blocks a user: no more logins by any connection, every refresh family revoked, every access
   * token issued so far refused by every instance, single sign-on sessions ended.
   */
  Future<Void> block(String userId, JsonObject actor);

  Future<Void> unblock(String userId, JsonObject actor);

  /** Log out everywhere: every refresh and access token of the user revoked, SSO sessions ended. */
  Future<Void> logout(String userId, JsonObject actor);

  /**
   * Audit events newest first: {@code filter} {@code {"user"?, "type"?, "since"?, "until"?,
   * "limit"?, "cursor"?}} → {@code {"events": [...], "nextCursor"?}}.
   */
  Future<JsonObject> audit(JsonObject filter);

  /** Records an administrator's action that changes nothing (an export, a look at a user). */
  Future<Void> recordAction(String action, JsonObject actor, @Nullable String userId);

  /** Whether the user (not blocked) is one of {@code admin.users}. */
  Future<Boolean> isAdmin(String userId);
}
