package io.scangate.wechat;

import io.scangate.error.ApiException;

/**
 * A WeChat API call that did not succeed. {@link #errcode()} is WeChat's own code when WeChat
 * answered with one, and {@code -1} ("system busy") when WeChat could not be reached or kept
 * failing. The message names the API and the account, never a secret, token or code.
 */
public final class WeChatException extends RuntimeException {

  public enum Reason {
    /** WeChat answered with a non-zero errcode. */
    WECHAT_ERROR,
    /** WeChat kept answering -1 (system busy) or a 5xx after all retries. */
    BUSY,
    /** No answer within the call timeout, after all retries. */
    TIMEOUT,
    /** WeChat could not be reached (connection refused, DNS...), after all retries. */
    UNREACHABLE,
    /** WeChat answered something that is not the documented shape. */
    BAD_RESPONSE,
    /** The access token was rejected and a forced refresh is not allowed now (30 s / 20 per day). */
    REFRESH_LIMITED
  }

  public static final int SYSTEM_BUSY = -1;

  private final Reason reason;
  private final String api;
  private final int errcode;
  private final String errmsg;

  public WeChatException(Reason reason, String api, int errcode, String errmsg, String message) {
    super(message, null, false, false);
    this.reason = reason;
    this.api = api;
    this.errcode = errcode;
    this.errmsg = errmsg;
  }

  public static WeChatException wechat(String api, String appId, int errcode, String errmsg) {
    return new WeChatException(Reason.WECHAT_ERROR, api, errcode, errmsg,
        "WeChat refused " + api + " for " + appId + ": errcode " + errcode + " (" + errmsg + ")");
  }

  public Reason reason() {
    return reason;
  }

  public String api() {
    return api;
  }

  public int errcode() {
    return errcode;
  }

  public String errmsg() {
    return errmsg;
  }

  /** 40001 (invalid credential), 40014 (invalid access_token), 42001 (access_token expired). */
  public boolean isAccessTokenRejected() {
    return reason == Reason.WECHAT_ERROR && isAccessTokenErrcode(errcode);
  }

  static boolean isAccessTokenErrcode(int errcode) {
    return errcode == 40001 || errcode == 40014 || errcode == 42001;
  }

  /** Whether trying again later may succeed (busy, timeout, unreachable, refresh limited). */
  public boolean isTransient() {
    return reason != Reason.WECHAT_ERROR && reason != Reason.BAD_RESPONSE;
  }

  /** WeChat's answers for a one-time code from the user's WeChat that it does not accept. */
  private static final java.util.Set<Integer> REJECTED_USER_CODE = java.util.Set.of(40029, 40163, 40226, 40013);

  /**
   * This failure as our API's error (docs/errors.md): {@code invalid_code} (400) when WeChat
   * rejects a code the caller brought (wx.login or phone code: invalid, used, expired),
   * {@code wechat_unavailable} (503) when WeChat could not answer, {@code wechat_error} (502)
   * when it refused the call otherwise.
   */
  public ApiException toApiException() {
    return switch (reason) {
      case WECHAT_ERROR -> REJECTED_USER_CODE.contains(errcode)
          ? new ApiException(400, "invalid_code", "WeChat rejected the code (errcode " + errcode + "); get a new one")
          : new ApiException(502, "wechat_error", getMessage());
      case BAD_RESPONSE -> new ApiException(502, "wechat_error", getMessage());
      case REFRESH_LIMITED -> new ApiException(503, "wechat_token_refresh_limited", getMessage());
      default -> new ApiException(503, "wechat_unavailable", getMessage());
    };
  }

  /** For {@code Future.recover}: a WeChat failure becomes our API's error; anything else passes. */
  public static <T> io.vertx.core.Future<T> asApiFailure(Throwable e) {
    return io.vertx.core.Future.failedFuture(e instanceof WeChatException w ? w.toApiException() : e);
  }
}
