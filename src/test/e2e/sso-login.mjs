// Single sign-on and /login?app_id= in Debian's chromium (docs/oidc.md "Single sign-on" and
// "The login page opened directly"; CONTRACT section 7), against a start-dev gateway with two
// applications that enable the same connection (SsoE2EIT's config):
//   - sso-a (confidential, redirect http://a.sso.test:SITE_PORT/callback, callbackUrl
//     http://a.sso.test:SITE_PORT/direct-callback) and sso-b (public, PKCE, redirect
//     http://b.sso.test:SITE_PORT/callback). Their callbacks are on made-up hosts, not loopback (SSO
//     is refused for loopback redirect URIs, RFC 8252 8.6), which Chromium resolves to 127.0.0.1
//     (--host-resolver-rules), where this script serves a blank callback page; the code is read
//     from the URL. The gateway itself stays http://127.0.0.1:PORT (a first-party cookie).
//   - A's /oidc/auth → the hosted page → the phone scans and confirms → A's callback with a code;
//     then B's /oidc/auth in the same browser answers at once with a code (a 302: no page, no QR
//     session), prompt=none too; a loopback client (demo-spa) still gets the page / login_required;
//   - /login?app_id=sso-a while the session exists still asks for a scan, then redirects to the
//     callbackUrl with a code that the backend (here: node's fetch) redeems with the app secret;
//   - /oidc/logout ends the session: B's /oidc/auth shows the page again, prompt=none login_required;
//   - an administrator's "log out everywhere" (/admin/api with an api key) does the same.
// Usage: node sso-login.mjs BASE_URL ADMIN_API_KEY SITE_PORT   (one line per check; exit 0 = all pass)
import { check, launchChromium, poster } from './common.mjs';
import http from 'node:http';

const [base, adminKey, sitePort] = process.argv.slice(2);
const A = { id: 'sso-a', secret: 'sso-a-secret-for-the-e2e-test', redirect: `http://a.sso.test:${sitePort}/callback`,
  callbackUrl: `http://a.sso.test:${sitePort}/direct-callback` };
const B = { id: 'sso-b', redirect: `http://b.sso.test:${sitePort}/callback` };
// The sites' callbacks (and the loopback demo's): a blank page; the browser stops there.
const site = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><title>the site\'s callback</title>');
});
await new Promise((resolve) => site.listen(Number(sitePort), '127.0.0.1', resolve));
// RFC 7636 appendix B: the verifier and its S256 challenge.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const browser = await launchChromium('--host-resolver-rules=MAP *.sso.test 127.0.0.1');
const post = poster(base);
// The phone: a mini program user (a fixed openid per person) scans the code and confirms.
const scanAndConfirm = async (scene, openid, nickname) => {
  const wx = await post('/sandbox/control/miniprogram/code', { appId: 'wxsandboxmini0001', openid });
  const { scanToken } = await post(`/api/v1/miniprogram/qr/${scene}/scan`, { connection: 'wechat-mini-qr', code: wx.code });
  await post(`/api/v1/miniprogram/qr/${scene}/confirm`, { scanToken, profile: { nickname } });
};

const authUrl = (app, extra = {}) => {
  const q = new URLSearchParams({ client_id: app.id, redirect_uri: app.redirect, response_type: 'code',
    scope: 'openid profile', state: `state-${app.id}`, nonce: 'n-' + Date.now(), ...extra });
  if (app === B) { q.set('code_challenge', CHALLENGE); q.set('code_challenge_method', 'S256'); }
  return `${base}/oidc/auth?${q}`;
};
// The demo application of start-dev: a loopback redirect URI.
const loopbackAuthUrl = (extra = {}) => `${base}/oidc/auth?${new URLSearchParams({ client_id: 'demo-spa',
  redirect_uri: `http://127.0.0.1:${sitePort}/demo/`, response_type: 'code', scope: 'openid', state: 's', code_challenge: CHALLENGE,
  code_challenge_method: 'S256', connection: 'wechat-mini-qr', ...extra })}`;

// The site's backend redeems a code at /oidc/token: A with its secret (HTTP Basic), B with PKCE.
const redeem = async (app, code, redirectUri = app.redirect) => {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (app.secret) headers.Authorization = 'Basic ' + Buffer.from(`${app.id}:${app.secret}`).toString('base64');
  else { form.set('client_id', app.id); form.set('code_verifier', VERIFIER); }
  const res = await fetch(base + '/oidc/token', { method: 'POST', headers, body: form });
  const body = await res.json();
  check(res.ok && body.id_token, `/oidc/token for ${app.id}: ${res.status} ${JSON.stringify(body)}`);
  const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString());
  check(claims.aud === app.id || (Array.isArray(claims.aud) && claims.aud.includes(app.id)), 'the id token is for ' + app.id);
  return claims;
};

// One browser context = one browser with its cookie jar. It records what the gateway answered
// /oidc/auth and /login with, every QR session the hosted page created, and every callback.
const newBrowser = async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const log = { auth: [], qrSessions: 0, pageScripts: 0 };
  context.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.method() === 'POST' && path === '/api/v1/qr/sessions') log.qrSessions++;
    if (path.startsWith('/static/login/')) log.pageScripts++;
  });
  context.on('response', (r) => {
    const url = new URL(r.url());
    if (url.origin === base && (url.pathname === '/oidc/auth' || url.pathname === '/login')) log.auth.push(r.status());
  });
  const page = await context.newPage();
  return { context, page, log };
};
// The hosted page: #login[data-state], #qr[data-scene] (docs/hosted-page-and-sdk.md).
const codeShown = async (page) => {
  await page.waitForSelector('#login[data-state="pending"] #qr:not([hidden])', { timeout: 15000 });
  return page.getAttribute('#qr', 'data-scene');
};
const callback = (page, prefix) => page.waitForURL((u) => u.href.startsWith(prefix + '?'), { timeout: 20000 })
  .then(() => new URL(page.url()).searchParams);
// Scan through the hosted page the browser shows; the browser lands on `prefix` with a code.
const logInOnPage = async (page, prefix, openid, nickname) => {
  const scene = await codeShown(page);
  await scanAndConfirm(scene, openid, nickname);
  const params = await callback(page, prefix);
  check(params.get('code') && !params.get('error'), `a code at ${prefix}: ${params}`);
  check(params.get('iss') === base, 'RFC 9207 iss: ' + params.get('iss'));
  return params;
};
// Goes to `url` expecting an answer from the session: a redirect with a code, no page, no scan.
const answeredAtOnce = async (b, url, prefix) => {
  const before = { qrSessions: b.log.qrSessions, pageScripts: b.log.pageScripts, auth: b.log.auth.length };
  await b.page.goto(url);
  const params = new URL(b.page.url()).searchParams;
  check(b.page.url().startsWith(prefix + '?'), `answered at once at ${prefix}: ${b.page.url()}`);
  check(JSON.stringify(b.log.auth.slice(before.auth)) === '[302]', '/oidc/auth answered with a redirect: ' + b.log.auth.slice(before.auth));
  check(b.log.qrSessions === before.qrSessions && b.log.pageScripts === before.pageScripts, 'no login page, no QR session');
  return params;
};
// Goes to `url` expecting the hosted page (a scan needed).
const showsThePage = async (b, url) => {
  const before = b.log.auth.length;
  await b.page.goto(url);
  await codeShown(b.page);
  check(JSON.stringify(b.log.auth.slice(before)) === '[200]', 'the login page itself: ' + b.log.auth.slice(before));
};
const ssoCookie = async (b) => (await b.context.cookies(base)).find((c) => c.name === 'scangate_sso');

try {
  const b = await newBrowser();

  // 1. Application A: the hosted page, a scan, A's callback with a code; a single sign-on cookie.
  await showsThePage(b, authUrl(A));
  const a1 = await logInOnPage(b.page, A.redirect, 'o-sso-e2e-mei', 'SSO Mei');
  check(a1.get('state') === 'state-sso-a', 'the state came back');
  const mei = (await redeem(A, a1.get('code'))).sub;
  const cookie = await ssoCookie(b);
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Lax' && cookie.path === '/', 'the SSO cookie: ' + JSON.stringify(cookie));
  console.log(`SSO: application A logged ${mei} in through the hosted page (scan); cookie ${cookie.name} set`);

  // 2. Application B in the same browser: a code at once, for the same user; prompt=none too.
  const b1 = await answeredAtOnce(b, authUrl(B), B.redirect);
  check(b1.get('state') === 'state-sso-b' && b1.get('code'), 'B got a code: ' + b1);
  check((await redeem(B, b1.get('code'))).sub === mei, 'B\'s code is the same user\'s');
  const b2 = await answeredAtOnce(b, authUrl(B, { prompt: 'none' }), B.redirect);
  check((await redeem(B, b2.get('code'))).sub === mei, 'prompt=none: a code for the same user');
  console.log('SSO: application B got a code at once (302, no page, no QR session), and with prompt=none');

  // A browser without the cookie: prompt=none is login_required (the answer above came from the session).
  {
    const other = await newBrowser();
    await other.page.goto(authUrl(B, { prompt: 'none' }));
    const refused = new URL(other.page.url()).searchParams;
    check(other.page.url().startsWith(B.redirect) && refused.get('error') === 'login_required', 'no cookie: ' + other.page.url());
    await other.context.close();
    console.log('SSO: another browser, prompt=none → login_required');
  }

  // 3. A loopback redirect URI (start-dev's demo application) never gets a code from the session.
  await showsThePage(b, loopbackAuthUrl());
  await b.page.goto(loopbackAuthUrl({ prompt: 'none' }));
  const loopbackRefusal = b.page.url().startsWith(`http://127.0.0.1:${sitePort}/demo/`) ? new URL(b.page.url()).searchParams : null;
  check(loopbackRefusal?.get('error') === 'login_required', 'loopback, prompt=none: ' + b.page.url());
  console.log('SSO refused for a loopback redirect URI: the page, and login_required with prompt=none');

  // 4. /login?app_id= with a live session: still the page and a scan, then the callbackUrl with a
  //    code that the backend redeems with the app secret. The scan replaces the browser's session.
  await showsThePage(b, `${base}/login?app_id=${A.id}&state=direct-1`);
  const direct = await logInOnPage(b.page, A.callbackUrl, 'o-sso-e2e-lei', 'Direct Lei');
  check(direct.get('state') === 'direct-1', 'the state came back: ' + direct.get('state'));
  const lei = await redeem(A, direct.get('code'), A.callbackUrl);
  check(lei.sub !== mei && lei.nickname === 'Direct Lei', 'the direct login is the new scanner: ' + JSON.stringify(lei));
  const reused = await fetch(base + '/oidc/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code',
    code: direct.get('code'), redirect_uri: A.callbackUrl }), headers: { Authorization: 'Basic ' + Buffer.from(`${A.id}:${A.secret}`).toString('base64') } });
  check(reused.status === 400 && (await reused.json()).error === 'invalid_grant', 'the code works once');
  console.log(`/login?app_id=: asked for a scan despite the session, callbackUrl got a code, redeemed with the secret (${lei.nickname})`);
  const b3 = await answeredAtOnce(b, authUrl(B), B.redirect);
  check((await redeem(B, b3.get('code'))).sub === lei.sub, 'the direct login replaced the session');
  console.log('SSO: after /login?app_id=, application B gets a code at once for the new scanner');

  // 5. /oidc/logout ends the session: B needs a scan again; prompt=none is login_required.
  await b.page.goto(`${base}/oidc/logout`);
  check(!(await ssoCookie(b)), 'the cookie is cleared');
  await showsThePage(b, authUrl(B));
  await b.page.goto(authUrl(B, { prompt: 'none' }));
  check(new URL(b.page.url()).searchParams.get('error') === 'login_required', 'after logout, prompt=none: ' + b.page.url());
  console.log('SSO after /oidc/logout: B shows the page again; prompt=none → login_required');

  // 6. A scan on B's page, A answers at once; then an administrator logs the user out everywhere.
  await showsThePage(b, authUrl(B));
  const b4 = await logInOnPage(b.page, B.redirect, 'o-sso-e2e-mei', 'SSO Mei');
  check((await redeem(B, b4.get('code'))).sub === mei, 'Mei again');
  const a2 = await answeredAtOnce(b, authUrl(A), A.redirect);
  check((await redeem(A, a2.get('code'))).sub === mei, 'A answered from B\'s session');
  const res = await fetch(`${base}/admin/api/users/${mei}/logout`, { method: 'POST', headers: { Authorization: `Bearer ${adminKey}` } });
  check(res.status === 200, `/admin/api/users/{id}/logout: ${res.status} ${await res.text()}`);
  check(await ssoCookie(b), 'the browser still holds its cookie');
  await showsThePage(b, authUrl(A));
  await b.page.goto(authUrl(B, { prompt: 'none' }));
  check(new URL(b.page.url()).searchParams.get('error') === 'login_required', 'after log out everywhere, prompt=none: ' + b.page.url());
  console.log('SSO after log out everywhere (/admin/api): A shows the page again; prompt=none → login_required');

  await b.context.close();
  console.log('Single sign-on in the browser: OK');
  await browser.close();
  site.close();
} catch (e) {
  console.error('FAILED: ' + (e.stack || e));
  await browser.close();
  site.close();
  process.exit(1);
}
