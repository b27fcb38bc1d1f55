// The /admin page in Debian's chromium: an administrator opens it, logs in through the hosted
// login page as the reserved client scangate-admin (PKCE S256, max_age=300; the sandbox phone
// scans), blocks a user and finds the entry in the audit log; then a WeChat user who is not an
// administrator logs in the same way and is refused.
// The login page is driven as oidc-clients.mjs does: its authorization request id (a meta tag),
// a QR session scanned and confirmed by the sandbox phone, then /oidc/auth/complete; the browser
// follows the redirect back to /admin/ with the code, and the page exchanges it itself.
// Usage: node admin-page.mjs BASE_URL ADMIN_OPENID   (exit 0 = the flow works)
import { launchChromium } from './common.mjs';

const base = process.argv[2];
const adminOpenid = process.argv[3];
const post = async (path, body) => {
  const res = await fetch(base + path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const browser = await launchChromium();
const pages = [];
const fail = async (message) => {
  for (const p of pages) {
    const text = await p.textContent('#message').catch(() => null);
    console.error(`page ${p.url()}: message ${JSON.stringify(text)}`);
  }
  console.error('FAILED: ' + message);
  await browser.close();
  process.exit(1);
};

/** From the /admin page's login button to the page with the code: the phone of `openid` scans. */
async function logInByScanning(page, openid) {
  pages.push(page);
  page.on('console', (m) => console.log('browser: ' + m.text()));
  await page.goto(base + '/admin/');
  await page.click('#login');
  await page.waitForURL(/\/oidc\/auth\?/);
  const url = new URL(page.url());
  for (const [name, value] of [['client_id', 'scangate-admin'], ['code_challenge_method', 'S256'], ['max_age', '300']]) {
    if (url.searchParams.get(name) !== value) throw new Error(`/oidc/auth without ${name}=${value}: ${page.url()}`);
  }
  const authRequest = await page.getAttribute('meta[name="scangate-auth-request"]', 'content');
  if (!authRequest) throw new Error('the login page carries no authorization request id');
  const session = await post('/api/v1/qr/sessions', {appId: 'scangate-admin', connection: 'wechat-mini-qr'});
  const phone = await post('/sandbox/control/miniprogram/code', {appId: 'wxsandboxmini0001', openid});
  const scanned = await post(`/api/v1/miniprogram/qr/${session.scene}/scan`, {connection: 'wechat-mini-qr', code: phone.code});
  await post(`/api/v1/miniprogram/qr/${session.scene}/confirm`, {scanToken: scanned.scanToken});
  const confirmed = await (await fetch(`${base}/api/v1/qr/sessions/${session.sessionId}`)).json();
  const done = await post('/oidc/auth/complete', {authRequest, ticket: confirmed.ticket});
  if (!done.redirect.startsWith(base + '/admin/?code=')) throw new Error('redirected to ' + done.redirect);
  await page.goto(done.redirect);
}

try {
  // Someone to block: a user of the demo site, logged in by the mini program.
  const code = await post('/sandbox/control/miniprogram/code', {appId: 'wxsandboxmini0001', openid: 'o-victim-e2e'});
  const victim = await post('/api/v1/miniprogram/login', {appId: 'demo', connection: 'wechat-mini', code: code.code});
  const victimId = victim.user.id;
  const verify = async () => (await fetch(base + '/auth/verify', {headers: {Authorization: 'Bearer ' + victim.tokens.access_token}})).status;
  if (await verify() !== 200) await fail('the victim token does not work to begin with');

  const admin = await browser.newPage();
  await logInByScanning(admin, adminOpenid);
  await admin.waitForSelector('#console:not([hidden])', {timeout: 20000});
  if (new URL(admin.url()).search !== '') await fail('the code stayed in the address bar: ' + admin.url());
  console.log('admin logged in by scanning');

  await admin.fill('#query', 'o-victim-e2e');
  await admin.click('#search');
  const row = `#users tr[data-user-id="${victimId}"]`;
  await admin.waitForSelector(row, {timeout: 20000});
  await admin.click(`${row} button.block`);
  await admin.waitForFunction((sel) => document.querySelector(sel + ' td.status')?.textContent === 'blocked', row, {timeout: 20000});
  console.log('admin blocked ' + victimId);
  if (await verify() !== 401) await fail('the blocked user\'s access token still works');

  await admin.fill('#audit-type', 'user_blocked');
  await admin.click('#audit-load');
  await admin.waitForSelector('#audit tr[data-type="user_blocked"]', {timeout: 20000});
  const entry = await admin.textContent('#audit tr[data-type="user_blocked"]');
  if (!entry.includes(victimId)) await fail('audit entry without the user: ' + entry);
  console.log('admin sees the audit entry: ' + entry.replace(/\s+/g, ' ').slice(0, 160));

  // A WeChat user who is not an administrator: logged in, then refused by the page.
  const context = await browser.newContext();
  const stranger = await context.newPage();
  await logInByScanning(stranger, 'o-stranger-e2e');
  await stranger.waitForSelector('#refused:not([hidden])', {timeout: 20000});
  if (!(await stranger.isHidden('#console'))) await fail('the console is shown to a non-administrator');
  console.log('a non-admin who scans is refused: ' + (await stranger.textContent('#refused-reason')));
  console.log('admin page: OK');
} catch (e) {
  await fail(e.stack || e.message);
}
await browser.close();
