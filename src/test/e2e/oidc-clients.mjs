// Standard OIDC clients against a running start-dev gateway, on their defaults:
//   jose          verifies the access and id tokens from the published JWK set (remote JWKS);
//   openid-client discovers the provider, refreshes with client_secret_basic (validating the new
//                 id token: signature from the JWKS, RS256 as discovery says, iss, aud) and
//                 fetches userinfo.
// Usage: node oidc-clients.mjs BASE_URL   (prints one line per check; exits non-zero on failure)
import * as jose from "jose";
import * as client from "openid-client";

const base = process.argv[2];
const post = async (path, body) => {
  const res = await fetch(base + path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

// A login through the sandbox phone: a mini-program code, exchanged at the gateway.
const code = await post("/sandbox/control/miniprogram/code", {appId: "wxsandboxmini0001", phone: "+8613800000099"});
const login = await post("/api/v1/miniprogram/login", {appId: "demo", connection: "wechat-mini", code: code.code, phoneCode: code.phoneCode});
const tokens = login.tokens;

const discovery = await (await fetch(base + "/.well-known/openid-configuration")).json();
const jwks = jose.createRemoteJWKSet(new URL(discovery.jwks_uri));
const access = await jose.jwtVerify(tokens.access_token, jwks, {issuer: discovery.issuer, audience: "demo", typ: "at+jwt"});
console.log(`jose verified the access token: alg ${access.protectedHeader.alg}, sub ${access.payload.sub}`);
const id = await jose.jwtVerify(tokens.id_token, jwks, {issuer: discovery.issuer, audience: "demo", algorithms: ["RS256"]});
console.log(`jose verified the id token: alg ${id.protectedHeader.alg}`);

// openid-client allows plain http only when told (start-dev listens on http://127.0.0.1).
const config = await client.discovery(new URL(discovery.issuer), "demo", "demo-app-secret-for-dev-only", undefined,
    {execute: [client.allowInsecureRequests]});
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const claims = refreshed.claims();
if (claims.sub !== access.payload.sub) throw new Error("refreshed id token names another user");
console.log(`openid-client refreshed and validated the id token: sub ${claims.sub}`);
const userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
if (typeof userinfo.phone_number !== "string" || userinfo.phone_number_verified !== true) {
  throw new Error("userinfo without the standard phone claims: " + JSON.stringify(userinfo));
}
console.log(`openid-client fetched userinfo: phone_number ${userinfo.phone_number}`);
console.log("OIDC clients: OK");
