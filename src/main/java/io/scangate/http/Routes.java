package io.scangate.http;

import io.vertx.ext.web.Router;

/**
 * A capability's HTTP surface, mounted by {@link HttpVerticle}. Routes with a {@link #prefix()}
 * are mounted on that prefix's own sub-router, whose failure handler writes errors in the
 * surface's {@link #errors() shape}; their paths are relative to the prefix.
 */
public interface Routes {

  void mount(Router router);

  /** Where the surface lives ({@code "/oidc"}); empty for the root router. */
  default String prefix() {
    return "";
  }

  /**
   * Paths (exact, on the root router) whose routes read their bodies themselves, such as a file
   * upload: the shared JSON body handler and its small limit leave them alone.
   */
  default java.util.Set<String> ownBodyPaths() {
    return java.util.Set.of();
  }

  /** How the surface writes its errors. */
  default ErrorShape errors() {
    return ErrorShape.API;
  }
}
