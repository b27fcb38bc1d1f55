package io.scangate.webhook;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.MessageMode;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.identity.UserStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns what a verified WeChat push does. {@link WebhookRoutes} (the HTTP door) checks signatures,
 * decrypts, parses and de-duplicates, then asks this verticle at {@value #ADDRESS} to act on the
 * push: a login event goes to the {@link PushReactor} (the Official Account login flow's seam), an
 * {@code unsubscribe} is written to the audit log; then the push is published at
 * {@link WeChatEvents#ADDRESS}. The answer is {@code {reply}} (plaintext passive reply XML, absent
 * for {@code success}); a failure means "not processed" and the HTTP door holds the push
 * unanswered so that WeChat retries it.
 */
public final class WebhookVerticle extends VerticleBase {

  /** Internal: the HTTP door's request to act on one verified push. */
  public static final String ADDRESS = "scangate.webhook";

  private static final Logger log = LoggerFactory.getLogger(WebhookVerticle.class);

  private final ScanGateConfig config;
  private final UserStore users;
  private final PushReactor reactor;
  private final boolean dev;
  private MessageConsumer<JsonObject> consumer;

  public WebhookVerticle(ScanGateConfig config, UserStore users, PushReactor reactor, boolean dev) {
    this.config = config;
    this.users = users;
    this.reactor = reactor;
    this.dev = dev;
  }

  @Override
  public Future<?> start() {
    if (!dev) {
      for (var c : config.connections()) {
        if (c instanceof OfficialAccountConnection mp && mp.messageMode() == MessageMode.PLAIN) {
          // A plain push's signature covers no body: whoever sees one signed query can attach any body.
          log.atWarn().addKeyValue("connection", mp.identifier())
              .log("Official Account connection uses messageMode plain: its pushes' bodies are not signed; use safe mode for logins");
        }
      }
    }
    consumer = vertx.eventBus().<JsonObject>consumer(ADDRESS).handler(this::act);
    return consumer.completion();
  }

  private void act(Message<JsonObject> message) {
    JsonObject event = message.body();
    Future<String> done;
    if ("unsubscribe".equals(event.getString("event"))) {
      done = users.audit("wechat_unsubscribe", "success", null, event.getString("connection"), null,
          new JsonObject().put("openid", event.getString("openid"))).map((String) null);
    } else if (event.getString("scene") != null) {
      done = reactor.onLoginEvent(event);
    } else {
      done = Future.succeededFuture();
    }
    done.onSuccess(reply -> {
      vertx.eventBus().publish(WeChatEvents.ADDRESS, event);
      message.reply(new JsonObject().put("reply", reply));
    }).onFailure(e -> {
      log.atWarn().addKeyValue("connection", event.getString("connection")).addKeyValue("event", event.getString("event"))
          .addKeyValue("reason", String.valueOf(e.getMessage())).log("push not processed; WeChat's retry will bring it again");
      message.fail(503, "not processed");
    });
  }
}
