package io.scangate.qr;

import io.scangate.http.ApiException;
import io.vertx.core.Future;
import io.scangate.wechat.WeChatException;

/** WeChat failures as the mini program and the browser should see them. */
final class WeChatFailures {

  private WeChatFailures() {}

  static <T> Future<T> toApi(Throwable e) {
    if (e instanceof WeChatException w) {
      // A code the user's WeChat gave us that WeChat now rejects: the caller's input, not an outage.
      if (w.reason() == WeChatException.Reason.WECHAT_ERROR
          && (w.errcode() == 40029 || w.errcode() == 40163 || w.errcode() == 40226 || w.errcode() == 40013)) {
        return Future.failedFuture(ApiException.badRequest("invalid_code",
            "WeChat rejected the code (errcode " + w.errcode() + "): get a new one from wx.login"));
      }
      return Future.failedFuture(w.toApiException());
    }
    return Future.failedFuture(e);
  }
}
