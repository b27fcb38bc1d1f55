package io.scangate.webhook;

import io.vertx.codegen.annotations.Nullable;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * What the webhook does with a login event ({@code subscribe} with a QR scene, {@code SCAN}): the
 * seam where the Official Account login flow plugs in (it will call {@code scangate.login}). The
 * answer is the plaintext XML of a passive reply (encrypted by the webhook in compatible and safe
 * mode), or null for {@code success}. A failed future means "not processed": the push is forgotten
 * and left unanswered, so that WeChat's retry delivers it again.
 */
@FunctionalInterface
public interface PushReactor {

  /** Publishes only: no login yet (the Official Account flow is its own capability). */
  PushReactor PUBLISH_ONLY = event -> Future.succeededFuture();

  Future<@Nullable String> onLoginEvent(JsonObject event);
}
