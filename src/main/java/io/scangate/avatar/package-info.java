/**
 * Avatar images uploaded from the mini program, kept in PostgreSQL so that every instance serves
 * them, served as {@code scangate.avatar}.
 */
@ModuleGen(name = "scangate-avatar", groupPackage = "io.scangate")
package io.scangate.avatar;

import io.vertx.codegen.annotations.ModuleGen;
