package io.scangate.sandbox;

import io.scangate.config.ScanGateConfig;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The WeChat accounts the sandbox knows: every wechatAppId of the configuration, with its secret(s) and kind. */
final class SandboxApps {

  record App(String appId, Set<String> secrets, boolean officialAccount, boolean miniProgram) {}

  private final Map<String, App> apps = new LinkedHashMap<>();

  SandboxApps(ScanGateConfig config) {
    for (ScanGateConfig.Connection c : config.connections()) {
      App app = apps.computeIfAbsent(c.wechatAppId(), id -> new App(id, new LinkedHashSet<>(), false, false));
      app.secrets().add(c.appSecret());
      boolean officialAccount = c instanceof ScanGateConfig.OfficialAccountConnection;
      boolean mp = app.officialAccount() || officialAccount;
      boolean mini = app.miniProgram() || !officialAccount;
      apps.put(c.wechatAppId(), new App(c.wechatAppId(), app.secrets(), mp, mini));
    }
  }

  Optional<App> find(String appId) {
    return appId == null ? Optional.empty() : Optional.ofNullable(apps.get(appId));
  }

  Collection<App> all() {
    return apps.values();
  }

  /** WeChat's checks of an appid/secret pair: 41002 missing appid, 40013 unknown, 41004 missing secret, 40125 wrong secret. */
  App authenticate(String appId, String secret) {
    if (appId == null || appId.isEmpty()) throw new SandboxError(41002, "appid missing");
    App app = find(appId).orElseThrow(SandboxError::invalidAppId);
    if (secret == null || secret.isEmpty()) throw new SandboxError(41004, "appsecret missing");
    if (!app.secrets().contains(secret)) throw SandboxError.invalidSecret();
    return app;
  }
}
