package io.scangate.sandbox;

import io.vertx.core.json.JsonObject;

/** A WeChat-style refusal from the sandbox's WeChat API: HTTP 200 with {@code {"errcode", "errmsg"}}, as WeChat answers. */
final class SandboxError extends RuntimeException {

  final int errcode;
  final String errmsg;

  SandboxError(int errcode, String errmsg) {
    super(errmsg, null, false, false);
    this.errcode = errcode;
    this.errmsg = errmsg;
  }

  JsonObject toJson(String rid) {
    return new JsonObject().put("errcode", errcode).put("errmsg", errmsg + " rid: " + rid);
  }

  static SandboxError invalidAppId() {
    return new SandboxError(40013, "invalid appid");
  }

  static SandboxError invalidSecret() {
    return new SandboxError(40125, "invalid appsecret");
  }

  static SandboxError invalidToken() {
    return new SandboxError(40001, "invalid credential, access_token is invalid or not latest");
  }

  static SandboxError expiredToken() {
    return new SandboxError(42001, "access_token expired");
  }

  static SandboxError missingToken() {
    return new SandboxError(41001, "access_token missing");
  }

  static SandboxError unauthorized() {
    return new SandboxError(48001, "api unauthorized");
  }

  static SandboxError invalidArgs(String what) {
    return new SandboxError(40097, "invalid args: " + what);
  }

  static SandboxError invalidCode() {
    return new SandboxError(40029, "invalid code");
  }

  static SandboxError codeUsed() {
    return new SandboxError(40163, "code been used");
  }
}
