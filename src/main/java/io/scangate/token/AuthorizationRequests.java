package io.scangate.token;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.QrConnection;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Checking an {@code /oidc/auth} request (OIDC Core 3.1.2.1, RFC 6749 4.1.1, RFC 7636, RFC 8252).
 * The order matters: until the client and its redirect URI are known to be registered, an error
 * is shown as a page and never redirected (RFC 6749 4.1.2.1), so the endpoint cannot be used as an
 * open redirector; after that, errors go back to the client.
 */
final class AuthorizationRequests {

  private AuthorizationRequests() {}

  /** The outcome of a check. */
  sealed interface Checked permits Valid, ErrorPage, ErrorRedirect {}

  /** A request to serve: what is kept server-side while the user scans. */
  record Valid(Application app, JsonObject request, String prompt) implements Checked {}

  /** No trustworthy redirect URI: a 400 page. */
  record ErrorPage(String error, String description) implements Checked {}

  /** Back to the client's registered redirect URI with an error (and its state). */
  record ErrorRedirect(String redirectUri, String error, String description, String state) implements Checked {}

  private static final Set<String> SINGLE = Set.of("client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
      "code_challenge", "code_challenge_method", "connection", "prompt", "max_age", "response_mode");

  static Checked check(ScanGateConfig config, MultiMap params) {
    for (String name : SINGLE) {
      if (params.getAll(name).size() > 1) {
        // Which value is the client's is unknown, so no redirect can be trusted.
        return new ErrorPage("invalid_request", "parameter " + name + " is repeated");
      }
    }
    String clientId = value(params, "client_id");
    if (clientId == null) return new ErrorPage("invalid_request", "client_id is required");
    Application app = config.application(clientId).orElse(null);
    if (app == null) return new ErrorPage("unauthorized_client", "no application with this client_id is registered");
    String redirectUri = value(params, "redirect_uri");
    if (redirectUri == null) return new ErrorPage("invalid_request", "redirect_uri is required");
    if (!registered(app, redirectUri)) {
      return new ErrorPage("invalid_request", "redirect_uri is not registered for this application");
    }
    String state = value(params, "state");
    String responseType = value(params, "response_type");
    if (responseType == null) return new ErrorRedirect(redirectUri, "invalid_request", "response_type is required", state);
    if (!responseType.equals("code")) {
      return new ErrorRedirect(redirectUri, "unsupported_response_type", "only response_type=code is supported", state);
    }
    String responseMode = value(params, "response_mode");
    if (responseMode != null && !responseMode.equals("query")) {
      return new ErrorRedirect(redirectUri, "invalid_request", "only response_mode=query is supported", state);
    }
    if (params.contains("request")) {
      return new ErrorRedirect(redirectUri, "request_not_supported", "request objects are not supported", state);
    }
    if (params.contains("request_uri")) {
      return new ErrorRedirect(redirectUri, "request_uri_not_supported", "request_uri is not supported", state);
    }
    String scope = value(params, "scope");
    if (scope == null || !List.of(scope.trim().split("\\s+")).contains("openid")) {
      return new ErrorRedirect(redirectUri, "invalid_scope", "scope must include openid", state);
    }
    String challenge = value(params, "code_challenge");
    String method = value(params, "code_challenge_method");
    if (challenge == null) {
      if (method != null) return new ErrorRedirect(redirectUri, "invalid_request", "code_challenge_method without code_challenge", state);
      if (app.appSecret() == null) {
        return new ErrorRedirect(redirectUri, "invalid_request",
            "code_challenge (S256) is required: this application is a public client", state);
      }
    } else {
      // RFC 7636 4.3: no method means plain, which this gateway does not accept.
      if (!"S256".equals(method)) {
        return new ErrorRedirect(redirectUri, "invalid_request", "code_challenge_method must be S256", state);
      }
      if (!Pkce.S256_CHALLENGE.matcher(challenge).matches()) {
        return new ErrorRedirect(redirectUri, "invalid_request", "code_challenge must be 43 base64url characters", state);
      }
    }
    String connection = value(params, "connection");
    if (connection != null && (!app.enables(connection)
        || config.connection(connection).filter(QrConnection.class::isInstance).isEmpty())) {
      return new ErrorRedirect(redirectUri, "invalid_request",
          "connection is not a QR code connection this application enables", state);
    }
    String prompt = value(params, "prompt");
    if (prompt != null) {
      for (String p : prompt.trim().split("\\s+")) {
        if (!Set.of("none", "login", "consent", "select_account").contains(p)) {
          return new ErrorRedirect(redirectUri, "invalid_request", "unknown prompt value", state);
        }
      }
      if (prompt.contains("none") && prompt.trim().contains(" ")) {
        return new ErrorRedirect(redirectUri, "invalid_request", "prompt=none cannot be combined with other values", state);
      }
    }
    String maxAge = value(params, "max_age");
    if (maxAge != null && !maxAge.matches("[0-9]{1,9}")) {
      return new ErrorRedirect(redirectUri, "invalid_request", "max_age must be a number of seconds", state);
    }
    String nonce = value(params, "nonce");
    for (String[] limited : new String[][] {{"state", state}, {"nonce", nonce}}) {
      if (limited[1] != null && limited[1].length() > 512) {
        return new ErrorRedirect(redirectUri, "invalid_request", limited[0] + " is longer than 512 characters", state);
      }
    }
    JsonObject request = new JsonObject().put("clientId", clientId).put("redirectUri", redirectUri)
        .put("scope", scope).put("state", state).put("nonce", nonce).put("codeChallenge", challenge)
        .put("connection", connection)
        // What single sign-on needs to decide whether a session may answer (LoginService.authorizeFromSession).
        .put("prompt", prompt == null ? null : prompt.trim()).put("maxAge", maxAge == null ? null : Integer.valueOf(maxAge))
        .put("loopbackRedirect", isLoopback(redirectUri));
    return new Valid(app, request, prompt);
  }

  private static String value(MultiMap params, String name) {
    String v = params.get(name);
    return v == null || v.isEmpty() ? null : v;
  }

  /**
   * Registered exactly (the application's {@code redirectUris} or its {@code callbackUrl}); a
   * registered loopback URI ({@code http://127.0.0.1}, {@code [::1]} or {@code localhost}) matches
   * on any port (RFC 8252 7.3), everything else being equal.
   */
  static boolean registered(Application app, String candidate) {
    List<String> uris = new ArrayList<>(app.redirectUris());
    if (app.callbackUrl() != null) uris.add(app.callbackUrl());
    if (uris.contains(candidate)) return true;
    URI given;
    try {
      given = new URI(candidate);
    } catch (Exception e) {
      return false;
    }
    if (!isLoopback(given) || given.getRawFragment() != null || given.getRawUserInfo() != null) return false;
    for (String uri : uris) {
      URI known = URI.create(uri);
      if (isLoopback(known) && known.getHost().equalsIgnoreCase(given.getHost())
          && java.util.Objects.equals(known.getRawPath(), given.getRawPath())
          && java.util.Objects.equals(known.getRawQuery(), given.getRawQuery())) {
        return true;
      }
    }
    return false;
  }

  /** A loopback redirect URI (RFC 8252 7.3): any local program can listen there. One that does not parse counts as one. */
  static boolean isLoopback(String uri) {
    try {
      return isLoopback(new URI(uri));
    } catch (Exception e) {
      return true;
    }
  }

  static boolean isLoopback(URI uri) {
    String host = uri.getHost();
    return "http".equals(uri.getScheme()) && host != null
        && (host.equals("127.0.0.1") || host.equals("[::1]") || host.equalsIgnoreCase("localhost"));
  }
}
