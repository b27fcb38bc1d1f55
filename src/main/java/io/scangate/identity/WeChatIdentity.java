package io.scangate.identity;

/**
 * Who WeChat says logged in, through which of our connections. {@code unionid}, {@code phone},
 * {@code nickname} and {@code avatarUrl} may be null (WeChat does not always tell them).
 */
public record WeChatIdentity(
    String connection,
    String wechatAppId,
    String openid,
    String unionid,
    String phone,
    String nickname,
    String avatarUrl) {
}
