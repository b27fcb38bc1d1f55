package io.scangate.identity;

/** Where a login or change comes from, for the audit log: our application and the client's IP. Both may be null. */
public record LoginContext(String appId, String clientIp) {
}
