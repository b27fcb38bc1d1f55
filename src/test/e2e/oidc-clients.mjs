// Standard OIDC clients against a running start-dev gateway, on their defaults:
//   jose          verifies the access and id tokens from the published JWK set (remote JWKS);
//   openid-client discovers the provider, refreshes with client_secret_basic (validating the new
//                 id token: signature from the JWKS, RS256 as discovery says, iss, aud) and
//                 fetches userinfo, then runs the authorization code flow with PKCE (S256, state,
//                 nonce, RFC 9207 iss) through /oidc/auth, the sandbox phone confirming the scan,
//                 and RP-initiated logout (end_session_endpoint), which ends the single sign-on session.
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
// The authorization code flow as openid-client runs it; the browser's page and the phone are played here.
const redirectUri = "http://127.0.0.1:8123/callback"; // a loopback redirect URI: any port (RFC 8252)
const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri, scope: "openid profile", state, nonce,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: "S256",
});
const page = await fetch(authUrl, {redirect: "manual"});
const html = await page.text();
const authRequest = /<meta name="scangate-auth-request" content="([A-Za-z0-9_-]+)">/.exec(html)?.[1];
if (page.status !== 200 || !authRequest) throw new Error(`/oidc/auth: ${page.status} ${html}`);
const session = await post("/api/v1/qr/sessions", {appId: "demo", connection: "wechat-mini-qr"});
const phone = await post("/sandbox/control/miniprogram/code", {appId: "wxsandboxmini0001"});
const scanned = await post(`/api/v1/miniprogram/qr/${session.scene}/scan`, {connection: "wechat-mini-qr", code: phone.code});
await post(`/api/v1/miniprogram/qr/${session.scene}/confirm`, {scanToken: scanned.scanToken});
const confirmed = await (await fetch(`${base}/api/v1/qr/sessions/${session.sessionId}`)).json();
const completed = await fetch(base + "/oidc/auth/complete", {method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({authRequest, ticket: confirmed.ticket})});
if (!completed.ok) throw new Error(`/oidc/auth/complete: ${completed.status} ${await completed.text()}`);
const done = await completed.json();
// The scan started a single sign-on session: a first-party, HttpOnly, SameSite=Lax cookie.
const ssoCookie = completed.headers.getSetCookie().find((c) => c.startsWith("scangate_sso="));
if (!ssoCookie || !/^scangate_sso=[A-Za-z0-9_-]{43};/.test(ssoCookie) || !/HttpOnly/i.test(ssoCookie)
    || !/SameSite=Lax/i.test(ssoCookie)) {
  throw new Error("no single sign-on cookie: " + ssoCookie);
}
const codeTokens = await client.authorizationCodeGrant(config, new URL(done.redirect),
    {pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true});
const codeClaims = codeTokens.claims();
if (codeClaims.azp !== "demo" || typeof codeClaims.auth_time !== "number") {
  throw new Error("id token without azp/auth_time: " + JSON.stringify(codeClaims));
}
console.log(`openid-client completed the code flow with PKCE: sub ${codeClaims.sub}`);
// RP-initiated logout as openid-client builds it: the gateway ends the single sign-on session and clears its cookie.
const logoutUrl = client.buildEndSessionUrl(config, {id_token_hint: codeTokens.id_token});
const loggedOut = await fetch(logoutUrl, {redirect: "manual", headers: {Cookie: ssoCookie.split(";")[0]}});
const cleared = loggedOut.headers.getSetCookie().find((c) => c.startsWith("scangate_sso="));
if (loggedOut.status !== 200 || !cleared || !/Max-Age=0/i.test(cleared)) {
  throw new Error(`logout: ${loggedOut.status} ${cleared} ${await loggedOut.text()}`);
}
console.log("openid-client logged out: the single sign-on session is over");
console.log("OIDC clients: OK");
