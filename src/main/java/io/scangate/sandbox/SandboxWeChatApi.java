package io.scangate.sandbox;

import io.scangate.qr.QrImages;

import io.scangate.sandbox.SandboxStore.Slot;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * The WeChat server APIs the gateway calls, under {@code /sandbox/wechat}, with WeChat's request
 * and response shapes and error codes (HTTP 200 with {@code errcode}/{@code errmsg}).
 */
final class SandboxWeChatApi {

  static final String QR_URL_PREFIX = "http://weixin.qq.com/q/";
  private static final int MAX_QR_EXPIRE = 2_592_000; // 30 days, WeChat's maximum
  private static final Pattern SCENE_CHARS = Pattern.compile("[A-Za-z0-9!#$&'()*+,/:;=?@\\-._~]+");
  private static final Pattern PAGE = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");
  private static final Pattern OPENID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Set<String> ENV_VERSIONS = Set.of("release", "trial", "develop");

  private final Vertx vertx;
  private final SandboxApps apps;
  private final SandboxStore store;

  SandboxWeChatApi(Vertx vertx, SandboxApps apps, SandboxStore store) {
    this.vertx = vertx;
    this.apps = apps;
    this.store = store;
  }

  // GET cgi-bin/token?grant_type=client_credential&appid&secret: a new token; the previous one stops working.
  void token(RoutingContext ctx) {
    answer(ctx, Future.succeededFuture().compose(x -> {
      if (!"client_credential".equals(ctx.request().getParam("grant_type"))) throw new SandboxError(40002, "invalid grant_type");
      var app = apps.authenticate(ctx.request().getParam("appid"), ctx.request().getParam("secret"));
      return store.issueToken(app.appId(), Slot.TOKEN, true);
    }).map(t -> new JsonObject().put("access_token", t.token()).put("expires_in", t.expiresIn())));
  }

  // POST cgi-bin/stable_token {grant_type, appid, secret, force_refresh}
  void stableToken(RoutingContext ctx) {
    answer(ctx, Future.succeededFuture().compose(x -> {
      JsonObject body = jsonBody(ctx);
      if (!"client_credential".equals(body.getValue("grant_type"))) throw new SandboxError(40002, "invalid grant_type");
      var app = apps.authenticate(string(body, "appid"), string(body, "secret"));
      if (!Boolean.TRUE.equals(body.getValue("force_refresh"))) return store.currentStableToken(app.appId());
      return store.takeForceRefresh(app.appId()).compose(refused -> {
        if (refused == 45011) throw new SandboxError(45011, "api minute-quota reach limit mustslower retry next minute");
        if (refused == 45009) throw new SandboxError(45009, "reach max api daily quota limit");
        return store.issueToken(app.appId(), Slot.STABLE, true);
      });
    }).map(t -> new JsonObject().put("access_token", t.token()).put("expires_in", t.expiresIn())));
  }

  // GET sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
  void jscode2session(RoutingContext ctx) {
    answer(ctx, Future.succeededFuture().compose(x -> {
      var app = apps.authenticate(ctx.request().getParam("appid"), ctx.request().getParam("secret"));
      if (!app.miniProgram()) throw SandboxError.unauthorized();
      String code = ctx.request().getParam("js_code");
      if (code == null || code.isEmpty()) throw new SandboxError(41008, "missing code");
      return store.consumeCode("jscode", code).map(record -> {
        if (!app.appId().equals(record.getString("appId"))) throw SandboxError.invalidCode();
        JsonObject session = new JsonObject().put("session_key", record.getString("sessionKey")).put("openid", record.getString("openid"));
        if (record.getString("unionid") != null) session.put("unionid", record.getString("unionid"));
        return session;
      });
    }));
  }

  // POST wxa/business/getuserphonenumber?access_token {code}
  void phoneNumber(RoutingContext ctx) {
    answer(ctx, withToken(ctx, true).compose(appId -> {
      String code = string(jsonBody(ctx), "code");
      if (code == null || code.isEmpty()) throw SandboxError.invalidCode();
      return store.consumeCode("phonecode", code).map(record -> {
        if (!appId.equals(record.getString("appId"))) throw SandboxError.invalidCode();
        return new JsonObject().put("errcode", 0).put("errmsg", "ok").put("phone_info", new JsonObject()
            .put("phoneNumber", record.getString("phoneNumber"))
            .put("purePhoneNumber", record.getString("purePhoneNumber"))
            .put("countryCode", record.getString("countryCode"))
            .put("watermark", new JsonObject().put("timestamp", System.currentTimeMillis() / 1000).put("appid", appId)));
      });
    }));
  }

  // POST cgi-bin/qrcode/create?access_token {expire_seconds, action_name, action_info: {scene: {scene_str | scene_id}}}
  void createQrCode(RoutingContext ctx) {
    answer(ctx, withToken(ctx, false).compose(appId -> {
      JsonObject body = jsonBody(ctx);
      String action = string(body, "action_name");
      if (!"QR_STR_SCENE".equals(action) && !"QR_SCENE".equals(action)) throw new SandboxError(40053, "invalid action info");
      JsonObject info = body.getValue("action_info") instanceof JsonObject o ? o : null;
      JsonObject scene = info != null && info.getValue("scene") instanceof JsonObject s ? s : null;
      if (scene == null) throw new SandboxError(40053, "invalid action info");
      String sceneStr;
      if ("QR_STR_SCENE".equals(action)) {
        sceneStr = string(scene, "scene_str");
        if (sceneStr == null || sceneStr.isEmpty() || sceneStr.length() > 64) throw SandboxError.invalidArgs("scene_str must be 1-64 characters");
      } else {
        if (!(scene.getValue("scene_id") instanceof Number id) || id.longValue() <= 0) throw SandboxError.invalidArgs("scene_id");
        sceneStr = String.valueOf(id.longValue());
      }
      Object expireValue = body.getValue("expire_seconds", 60);
      if (!(expireValue instanceof Number expireNumber)) throw SandboxError.invalidArgs("expire_seconds");
      int expire = (int) Math.max(1, Math.min(MAX_QR_EXPIRE, expireNumber.longValue()));
      String ticket = SandboxStore.randomToken(48);
      String urlId = SandboxStore.randomToken(16);
      long now = System.currentTimeMillis();
      JsonObject qr = new JsonObject().put("ticket", ticket).put("sceneStr", sceneStr).put("url", QR_URL_PREFIX + urlId)
          .put("appId", appId).put("expireSeconds", expire).put("createdAt", now).put("expiresAt", now + expire * 1000L);
      return store.saveQrCode(qr, urlId, expire * 1000L)
          .map(v -> new JsonObject().put("ticket", ticket).put("expire_seconds", expire).put("url", qr.getString("url")));
    }));
  }

  // GET cgi-bin/showqrcode?ticket: the code's image (WeChat serves it without an access token).
  void showQrCode(RoutingContext ctx) {
    String ticket = ctx.request().getParam("ticket");
    if (ticket == null || ticket.isEmpty()) {
      answer(ctx, Future.failedFuture(SandboxError.invalidArgs("ticket")));
      return;
    }
    store.qrByTicket(ticket)
        .compose(qr -> qr == null
            ? Future.succeededFuture(null)
            : vertx.executeBlocking(() -> QrImages.png(qr.getString("url"), null, 430), false))
        .onSuccess(png -> {
          if (png == null) {
            ctx.response().setStatusCode(404).putHeader("Content-Type", "text/plain; charset=utf-8")
                .end("QR code ticket unknown or expired");
          } else {
            png(ctx, png);
          }
        })
        .onFailure(ctx::fail);
  }

  // POST wxa/getwxacodeunlimit?access_token {scene, page, check_path, env_version, width}: an image, or JSON on error.
  void wxaCode(RoutingContext ctx) {
    withToken(ctx, true).compose(appId -> {
      JsonObject body = jsonBody(ctx);
      String scene = string(body, "scene");
      if (scene == null || scene.isEmpty() || scene.length() > 32) throw new SandboxError(40169, "invalid length for scene, or the data is not json");
      if (!SCENE_CHARS.matcher(scene).matches()) throw new SandboxError(40129, "invalid scene");
      String page = string(body, "page");
      if (page != null && !page.isEmpty() && !PAGE.matcher(page).matches()) throw new SandboxError(41030, "invalid page");
      String env = string(body, "env_version");
      if (env != null && !ENV_VERSIONS.contains(env)) throw SandboxError.invalidArgs("env_version");
      Object widthValue = body.getValue("width", 430);
      int width = widthValue instanceof Number n ? (int) Math.max(280, Math.min(1280, n.longValue())) : 430;
      // The sandbox's "mini program code" is a QR code carrying the scene itself.
      return vertx.executeBlocking(() -> QrImages.png(scene, null, width), false);
    }).onSuccess(png -> png(ctx, png)).onFailure(e -> answer(ctx, Future.failedFuture(e)));
  }

  // GET cgi-bin/user/info?access_token&openid&lang
  void userInfo(RoutingContext ctx) {
    answer(ctx, withToken(ctx, false).compose(appId -> {
      String openid = ctx.request().getParam("openid");
      if (openid == null || !OPENID.matcher(openid).matches()) throw new SandboxError(40003, "invalid openid");
      return store.follower(appId, openid).map(f -> {
        if (f == null) throw new SandboxError(40003, "invalid openid");
        JsonObject info = new JsonObject()
            .put("subscribe", f.getInteger("subscribe", 1))
            .put("openid", openid)
            .put("language", "zh_CN")
            .put("subscribe_time", f.getLong("subscribeTime"))
            .put("remark", "")
            .put("groupid", 0)
            .put("tagid_list", new JsonArray())
            .put("subscribe_scene", "ADD_SCENE_QR_CODE")
            .put("qr_scene", 0)
            .put("qr_scene_str", f.getString("qrSceneStr", ""));
        if (f.getString("unionid") != null) info.put("unionid", f.getString("unionid"));
        return info;
      });
    }));
  }

  // ---- helpers ----

  /** Checks ?access_token and that the API suits the account's kind; yields the appid. */
  private Future<String> withToken(RoutingContext ctx, boolean miniProgramApi) {
    return store.checkToken(ctx.request().getParam("access_token")).map(info -> {
      var app = apps.find(info.appId()).orElseThrow(SandboxError::invalidToken);
      if (miniProgramApi ? !app.miniProgram() : !app.officialAccount()) throw SandboxError.unauthorized();
      return info.appId();
    });
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    try {
      Buffer body = ctx.body().buffer();
      if (body == null || body.length() == 0) throw new SandboxError(44002, "empty post data");
      return body.toJsonObject();
    } catch (SandboxError e) {
      throw e;
    } catch (RuntimeException e) {
      throw new SandboxError(47001, "data format error");
    }
  }

  private static String string(JsonObject json, String field) {
    Object v = json.getValue(field);
    return v instanceof String s ? s : null;
  }

  private static void png(RoutingContext ctx, byte[] png) {
    ctx.response().putHeader("Content-Type", "image/png").putHeader("Cache-Control", "no-store").end(Buffer.buffer(png));
  }

  /** Sends WeChat's JSON: the result, or {errcode, errmsg} for a refusal; other failures go to the error handler. */
  static void answer(RoutingContext ctx, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        send(ctx, ar.result());
      } else if (ar.cause() instanceof SandboxError e) {
        send(ctx, e.toJson(SandboxStore.randomToken(6)));
      } else {
        ctx.fail(ar.cause());
      }
    });
  }

  private static void send(RoutingContext ctx, JsonObject json) {
    ctx.response().putHeader("Content-Type", "application/json; charset=utf-8").end(json.encode());
  }
}
