package io.scangate.admin;

import io.vertx.core.Future;

/**
 * Ends every single sign-on session of a user: the step blocking and log out everywhere take
 * after revoking the user's tokens. Single sign-on (issue 15) provides the real one; until it is
 * wired into the composition root ({@code ScanGate.deploy}) and the command line, {@link #NONE}
 * stands in, because there are no SSO sessions to end.
 */
@FunctionalInterface
public interface SessionEnder {

  /** No single sign-on sessions exist in this build: nothing to end. */
  SessionEnder NONE = userId -> Future.succeededFuture();

  Future<Void> endSessionsOf(String userId);
}
