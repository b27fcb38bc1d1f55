/** The QR-session capability: sessions in Redis, the {@code scangate.qr} service, waking waiting browsers. */
@ModuleGen(name = "scangate-qr", groupPackage = "io.scangate")
package io.scangate.qr;

import io.vertx.codegen.annotations.ModuleGen;
