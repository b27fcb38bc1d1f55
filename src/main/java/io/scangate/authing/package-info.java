/**
 * The Authing-compatible API (CONTRACT section 10, docs/migrating-from-authing.md): the requests
 * Authing's SDKs send, answered in Authing's envelope by calling the login pipeline — no flow of
 * its own.
 */
package io.scangate.authing;
