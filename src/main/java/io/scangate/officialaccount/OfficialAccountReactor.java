package io.scangate.officialaccount;

import io.scangate.login.LoginService;
import io.scangate.webhook.PushReactor;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The webhook's login events, handed to the login pipeline ({@code scangate.login}): a thin
 * adapter. Every login step is {@link LoginService#officialAccountScan}; this class only turns its
 * answer's {@code reply} text into a passive text-message reply addressed to the scanner.
 */
public final class OfficialAccountReactor implements PushReactor {

  private final LoginService login;

  public OfficialAccountReactor(LoginService login) {
    this.login = login;
  }

  @Override
  public Future<String> onLoginEvent(JsonObject event) {
    String openid = event.getString("openid");
    return login.officialAccountScan(event.getString("connection"), event.getString("scene"), openid)
        .map(answer -> {
          String text = answer.getString("reply");
          return text == null ? null : textReply(openid, event.getString("toUserName"), text);
        });
  }

  /** A passive text reply: to the scanner, from the account the push was addressed to. */
  static String textReply(String openid, String account, String text) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("ToUserName", openid);
    fields.put("FromUserName", account);
    fields.put("CreateTime", System.currentTimeMillis() / 1000);
    fields.put("MsgType", "text");
    fields.put("Content", text);
    return WeChatXml.build(fields);
  }
}
