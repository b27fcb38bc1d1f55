/**
 * The login pipeline: what every login door shares (which application and connection, WeChat
 * identity to user, profile validation, confirming a session, the one-time ticket and its
 * exchange for tokens, audit), served as {@code scangate.login}.
 */
@ModuleGen(name = "scangate-login", groupPackage = "io.scangate")
package io.scangate.login;

import io.vertx.codegen.annotations.ModuleGen;
