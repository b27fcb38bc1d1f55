package io.scangate.web;

import io.scangate.http.Routes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The gateway's static browser files, read from the jar once at startup (no build step): the
 * hosted login page's script and style ({@code /static/login/}) and the browser SDK (CONTRACT
 * section 7), {@code /sdk/scangate.js} (ES module) and {@code /sdk/scangate.umd.js} (classic
 * script, {@code window.ScanGate}), both made from the one source {@code web/sdk/scangate-core.js}
 * by wrapping it. Answers carry an ETag and {@code Cache-Control: no-cache} (revalidated, so an
 * upgrade is seen at once); the SDK may be loaded from any origin (module scripts need CORS).
 * The hosted page links its files by {@link #versioned} URLs ({@code ?v=} the content's hash),
 * which are answered {@code immutable} for a year: a returning visitor loads them from its cache
 * without a round trip, and a new version has a new URL.
 */
public final class WebAssets implements Routes {

  /** A file and how it is served. */
  record Asset(Buffer body, String contentType, String etag, boolean crossOrigin) {}

  /** The files, read from the jar once per JVM. */
  private static final Map<String, Asset> ASSETS = load();

  private final Map<String, Asset> assets = ASSETS;

  private static Map<String, Asset> load() {
    String core = resource("/web/sdk/scangate-core.js");
    Asset sdk = asset(module(core), "text/javascript; charset=utf-8", true);
    // The page's script imports the SDK by its versioned URL (the one the page modulepreloads).
    String login = resource("/web/login/login.js")
        .replace("from '/sdk/scangate.js';", "from '/sdk/scangate.js?v=" + version(sdk) + "';");
    return Map.of(
        "/static/login/login.js", asset(login, "text/javascript; charset=utf-8", false),
        "/static/login/login.css", asset(resource("/web/login/login.css"), "text/css; charset=utf-8", false),
        "/sdk/scangate.js", sdk,
        "/sdk/scangate.umd.js", asset(umd(core), "text/javascript; charset=utf-8", true));
  }

  /** {@code path?v=<the content's hash>}: a URL that always names this content (served immutable). */
  public static String versioned(String path) {
    Asset asset = ASSETS.get(path);
    if (asset == null) throw new IllegalArgumentException("no such file: " + path);
    return path + "?v=" + version(asset);
  }

  private static String version(Asset asset) {
    return asset.etag().substring(1, asset.etag().length() - 1);
  }

  /** The ES module: the core, with the gateway's URL taken from where the module was loaded. */
  static String module(String core) {
    return core + """

        const ScanGate = createScanGate(new URL('..', import.meta.url).href);
        export const {startScanning, exchange, follow, loginUrl, openLoginPage} = ScanGate;
        export default ScanGate;
        """;
  }

  /** The classic script: the core in a function scope, exported as {@code window.ScanGate}. */
  static String umd(String core) {
    return "(function (root) {\n'use strict';\n" + core + """

        var script = typeof document !== 'undefined' && document.currentScript;
        var base = script && script.src ? new URL('..', script.src).href : root.location.origin + '/';
        var api = createScanGate(base);
        if (typeof module === 'object' && module.exports) module.exports = api; else root.ScanGate = api;
        })(typeof self !== 'undefined' ? self : this);
        """;
  }

  @Override
  public void mount(Router router) {
    assets.forEach((path, asset) -> router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> serve(ctx, asset)));
  }

  /** The files by path (for tests measuring them). */
  public Map<String, Buffer> files() {
    return Map.copyOf(assets.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().body())));
  }

  private static void serve(RoutingContext ctx, Asset asset) {
    // A versioned URL of the current content never changes; any other is revalidated.
    boolean current = version(asset).equals(ctx.request().getParam("v"));
    var response = ctx.response()
        .putHeader("Content-Type", asset.contentType())
        .putHeader("Cache-Control", current ? "public, max-age=31536000, immutable" : "no-cache")
        .putHeader("ETag", asset.etag());
    if (asset.crossOrigin()) {
      response.putHeader("Access-Control-Allow-Origin", "*").putHeader("Cross-Origin-Resource-Policy", "cross-origin");
    }
    String match = ctx.request().getHeader("If-None-Match");
    if (match != null && (match.equals(asset.etag()) || match.equals("W/" + asset.etag()))) {
      response.setStatusCode(304).end();
      return;
    }
    response.end(asset.body());
  }

  private static Asset asset(String text, String contentType, boolean crossOrigin) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    String etag = "\"" + io.scangate.util.Hashes.sha256Hex(text).substring(0, 24) + "\"";
    return new Asset(Buffer.buffer(bytes), contentType, etag, crossOrigin);
  }

  static String resource(String path) {
    try (InputStream in = WebAssets.class.getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException(path + " is missing from the jar");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
