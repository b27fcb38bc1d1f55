/** The token capability: signing keys, JWTs, refresh, revocation, the {@code scangate.token} service, OIDC endpoints. */
@ModuleGen(name = "scangate-token", groupPackage = "io.scangate")
package io.scangate.token;

import io.vertx.codegen.annotations.ModuleGen;
