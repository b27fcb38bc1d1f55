/**
 * Administration (CONTRACT section 11): finding users, blocking them, logging them out
 * everywhere and reading the audit log, served as {@code scangate.admin} to the HTTP API
 * ({@code /admin/api}) and the page ({@code /admin}), and run in-process by the command line.
 */
@ModuleGen(name = "scangate-admin", groupPackage = "io.scangate")
package io.scangate.admin;

import io.vertx.codegen.annotations.ModuleGen;
