// Authing's own web SDK (authing-js-sdk 4.x, its browser bundle) against ScanGate, in Debian's
// chromium, on a page of an allowed origin: wxqrcode.startScanning renders a code; the sandbox
// scans and confirms; onSuccess fires; exchangeUserInfo(ticket) returns a user whose accessToken
// /auth/verify accepts and whose token verifies against our JWKS. Then a canceled code (onCancel),
// an expired one (onExpired) and the Official Account variant (wechatmpqrcode renders its code).
// Usage: node authing-web.mjs http://127.0.0.1:GATEWAY_PORT PAGE_PORT   (exit 0 = all of it works)
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { launchChromium } from './common.mjs';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [base, pagePort] = [process.argv[2], Number(process.argv[3])];
const pageOrigin = `http://127.0.0.1:${pagePort}`;
const sdk = readFileSync(new URL('./node_modules/authing-js-sdk/build/browser/index.min.js', import.meta.url));

// The site: one page that loads the SDK as Authing's docs show, with appHost set to ScanGate.
const page = `<!doctype html><html><head><meta charset="utf-8"><script src="/authing.js"></script></head>
<body><div id="qrcode"></div><script>
  window.client = new Authing.AuthenticationClient({ appId: 'demo', appHost: ${JSON.stringify(base)} });
  window.events = [];
  window.scan = (kind) => client[kind].startScanning('qrcode', {
    onCodeShow: (random, url) => events.push({ event: 'codeShow', random, url }),
    onScanned: (userInfo) => events.push({ event: 'scanned', userInfo }),
    onSuccess: (userInfo, ticket) => events.push({ event: 'success', userInfo, ticket }),
    onCancel: () => events.push({ event: 'cancel' }),
    onExpired: () => events.push({ event: 'expired' }),
    onError: (message) => events.push({ event: 'error', message: String(message) }),
    onCodeLoadFailed: (error) => events.push({ event: 'codeLoadFailed', message: String(error && error.message) }),
  });
</script></body></html>`;
const site = http.createServer((req, res) => {
  if (req.url === '/authing.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(sdk);
  else res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
});
await new Promise((resolve) => site.listen(pagePort, '127.0.0.1', resolve));

const browser = await launchChromium();
const done = async (code, message) => {
  if (message) console.error(message);
  await browser.close();
  site.close();
  process.exit(code);
};
const fail = (message) => done(1, 'FAILED: ' + message);

const post = async (path, body) => {
  const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await r.json();
  if (!r.ok) throw new Error(`${path} answered ${r.status} ${JSON.stringify(json)}`);
  return json;
};
// The phone's side (the sandbox plays WeChat): the scene is what the code shows; the test reads it
// back from the session server-to-server, as the mini program would read it from the code.
const sceneOf = async (random) => (await (await fetch(`${base}/api/v1/qr/sessions/${random}`)).json()).scene;
const phoneScan = async (random, openid) => {
  const codes = await post('/sandbox/control/miniprogram/code', { appId: 'wxsandboxmini0001', openid, unionid: 'u-' + openid, phone: '13900139000' });
  const scene = await sceneOf(random);
  const { scanToken } = await post(`/api/v1/miniprogram/qr/${scene}/scan`, { connection: 'wechat-mini-qr', code: codes.code });
  return { scene, scanToken, phoneCode: codes.phoneCode };
};
const waitFor = (tab, event, timeout = 30000) => tab.waitForFunction(
  (name) => window.events.find((e) => e.event === name), event, { timeout }).then((h) => h.jsonValue());
const rendered = (tab) => tab.waitForFunction(() => {
  const img = document.querySelector('#qrcode #authing__qrcode-wrapper img');
  return img && img.complete && img.naturalWidth > 0 && img.src.startsWith('data:image/png');
}, null, { timeout: 30000 });

try {
  // 1. The whole login.
  const pc = await browser.newPage();
  await pc.goto(pageOrigin + '/');
  await pc.evaluate(() => scan('wxqrcode'));
  const shown = await waitFor(pc, 'codeShow');
  await rendered(pc);
  if (shown.url.includes(shown.random)) await fail('the code image URL carries random');
  const phone = await phoneScan(shown.random, 'o-authing-e2e');
  await waitFor(pc, 'scanned');
  await post(`/api/v1/miniprogram/qr/${phone.scene}/confirm`, {
    scanToken: phone.scanToken, phoneCode: phone.phoneCode, profile: { nickname: 'Authing Mei', avatarUrl: 'https://img.example.com/mei.png' },
  });
  const success = await waitFor(pc, 'success');
  if (success.userInfo.nickname !== 'Authing Mei' || !success.ticket) await fail('onSuccess got ' + JSON.stringify(success));
  if (JSON.stringify(success).includes('13900139000')) await fail('the polled status carried the profile');
  const user = await pc.evaluate((ticket) => client.wxqrcode.exchangeUserInfo(ticket), success.ticket);
  if (user.phone !== '13900139000' || user.nickname !== 'Authing Mei') await fail('user ' + JSON.stringify(user));

  const verified = await fetch(base + '/auth/verify', { headers: { Authorization: 'Bearer ' + user.accessToken } });
  if (verified.status !== 200 || verified.headers.get('x-auth-user-id') !== user.id) await fail('/auth/verify answered ' + verified.status);
  const jwks = createRemoteJWKSet(new URL(base + '/oidc/.well-known/jwks.json'));
  const { payload } = await jwtVerify(user.token, jwks, { audience: 'demo' });
  if (payload.sub !== user.id) await fail('id token sub ' + payload.sub);
  const again = await pc.evaluate((ticket) => client.wxqrcode.exchangeUserInfo(ticket).then(() => 'used twice', (e) => 'refused'), success.ticket);
  if (again !== 'refused') await fail('a ticket worked twice');
  console.log('Authing web SDK login: user ' + user.id + ' (' + user.nickname + '), token verified against the JWKS');

  // 2. Canceled on the phone: onCancel fires (and the SDK shows a new code).
  const canceling = await browser.newPage();
  await canceling.goto(pageOrigin + '/');
  await canceling.evaluate(() => scan('wxqrcode'));
  const second = await waitFor(canceling, 'codeShow');
  await rendered(canceling);
  const scanned = await phoneScan(second.random, 'o-authing-cancel');
  await post(`/api/v1/miniprogram/qr/${scanned.scene}/cancel`, { scanToken: scanned.scanToken });
  await waitFor(canceling, 'cancel');
  console.log('Authing web SDK cancel: onCancel fired');

  // 3. The Official Account variant: wechatmpqrcode renders its code and polls it.
  const mp = await browser.newPage();
  await mp.goto(pageOrigin + '/');
  await mp.evaluate(() => scan('wechatmpqrcode'));
  const mpShown = await waitFor(mp, 'codeShow');
  await rendered(mp);
  const mpSession = await (await fetch(`${base}/api/v1/qr/sessions/${mpShown.random}`)).json();
  if (mpSession.connection !== 'wechat-mp') await fail('wechatmpqrcode made a ' + mpSession.connection + ' code');
  console.log('Authing web SDK Official Account code: rendered for ' + mpSession.connection);

  // 4. Nobody scans: onExpired fires when the code expires (qr.sessionTtl of this test's config).
  const expiring = await browser.newPage();
  await expiring.goto(pageOrigin + '/');
  await expiring.evaluate(() => scan('wxqrcode'));
  await waitFor(expiring, 'codeShow');
  await waitFor(expiring, 'expired', 60000);
  // No page saw a failed request or a failed code (onError, onCodeLoadFailed).
  for (const tab of [pc, canceling, mp, expiring]) {
    const errors = await tab.evaluate(() => events.filter((e) => e.event === 'error' || e.event === 'codeLoadFailed'));
    if (errors.length) await fail('onError: ' + JSON.stringify(errors));
  }
  console.log('Authing web SDK expiry: onExpired fired');
} catch (e) {
  await fail(e.stack || e.message);
}
await done(0);
