package io.scangate.http;

import io.scangate.config.ScanGateConfig.Cidr;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/**
 * The client's IP: the TCP peer, or, when the peer is a trusted proxy, the right-most
 * {@code X-Forwarded-For} entry that is not itself a trusted proxy. Never believe the header
 * from anyone else: it is whatever the client wants it to be.
 */
public final class ClientIp {

  private ClientIp() {}

  public static String of(RoutingContext ctx, List<Cidr> trustedProxies) {
    String peer = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    if (!isTrusted(peer, trustedProxies)) return peer;
    String forwarded = ctx.request().getHeader("X-Forwarded-For");
    if (forwarded == null || forwarded.isBlank()) return peer;
    String[] hops = forwarded.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].trim();
      if (hop.isEmpty()) continue;
      if (!isTrusted(hop, trustedProxies)) return hop;
    }
    return hops[0].trim();
  }

  private static boolean isTrusted(String ip, List<Cidr> trustedProxies) {
    for (Cidr cidr : trustedProxies) {
      if (cidr.contains(ip)) return true;
    }
    return false;
  }

  /** What the scanning user is shown: enough to recognise a network, not to identify a person. */
  public static String mask(String ip) {
    if (ip == null) return null;
    if (ip.contains(":")) {
      String[] groups = ip.split(":");
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < Math.min(3, groups.length); i++) sb.append(groups[i]).append(':');
      return sb.append('*').toString();
    }
    int lastDot = ip.lastIndexOf('.');
    return lastDot < 0 ? "*" : ip.substring(0, lastDot) + ".*";
  }
}
