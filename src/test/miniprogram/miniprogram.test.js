// The reference mini program's logic against a running start-dev gateway (SCANGATE_URL), with a
// simulated wx (fake-wx.js). Run: SCANGATE_URL=http://127.0.0.1:PORT node --test src/test/miniprogram/
// with the gateway started as `start-dev --config src/test/miniprogram/gateway.yaml`.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { installWx, openPage, miniprogram } = require('./fake-wx.js');

const BASE = (process.env.SCANGATE_URL || '').replace(/\/+$/, '');
if (!BASE) throw new Error('SCANGATE_URL must name a running start-dev gateway (see the comment at the top)');
const LOGO = path.resolve(__dirname, '../../../conf/logo.png');
const LOGIN_PAGE = 'pages/login/index';
let users = 0;

/** A new WeChat user (openid, unionid and phone unique to this run). */
function newUser(name) {
  users++;
  const n = Date.now() % 1e8;
  return { openid: 'o-' + name + '-' + n + '-' + users, unionid: 'u-' + name + '-' + n + '-' + users, phone: '139' + String(n + users).padStart(8, '0').slice(-8) };
}

async function browser(method, p, body) {
  const res = await fetch(BASE + p, {
    method, headers: { 'content-type': 'application/json', 'user-agent': 'E2E Browser/1.0 (Mini program test)' },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** The PC browser asks for a code: the session, and the launch query WeChat gives the page when it is scanned. */
async function showCode(connection) {
  const r = await browser('POST', '/api/v1/qr/sessions', { appId: 'demo', connection: connection || 'wechat-mini-qr' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { session: r.body, launch: { q: encodeURIComponent(r.body.qrContent), scancode_time: String(Date.now()) } };
}

async function sessionState(id) {
  const r = await browser('GET', '/api/v1/qr/sessions/' + id);
  assert.equal(r.status, 200);
  return r.body;
}

test('the scene comes from a url-style code (q) of this gateway or from a wxacode (scene)', () => {
  installWx(BASE, newUser('scene'));
  const { scene } = miniprogram(BASE);
  assert.equal(scene.sceneFrom({ q: encodeURIComponent(BASE + '/qr/Ab_c-1234567890') }), 'Ab_c-1234567890');
  assert.equal(scene.sceneFrom({ q: encodeURIComponent(BASE + '/qr/Ab12?x=1') }), 'Ab12');
  assert.equal(scene.sceneFrom({ scene: encodeURIComponent('Zz09_-') }), 'Zz09_-');
  assert.equal(scene.sceneFrom({ q: encodeURIComponent('https://evil.example.com/qr/Ab12') }), null);
  assert.equal(scene.sceneFrom({ scene: encodeURIComponent('<script>') }), null);
  assert.equal(scene.sceneFrom({}), null);
});

test('scan shows the browser, then confirm with phone, nickname and an uploaded avatar logs the browser in', async () => {
  const mei = newUser('mei');
  const phone = installWx(BASE, mei);
  miniprogram(BASE);
  const { session, launch } = await showCode();

  const page = await openPage(LOGIN_PAGE, launch);
  assert.equal(page.data.state, 'ready', page.data.message);
  assert.equal(page.data.session.appName, 'Demo site');
  assert.equal(page.data.session.ip, '127.0.0.*');
  assert.equal(page.data.session.userAgent, 'E2E Browser/1.0 (Mini program test)');
  assert.match(page.data.session.time, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  assert.equal((await sessionState(session.sessionId)).status, 'SCANNED');

  page.onGetPhoneNumber({ detail: { code: await phone.phoneCode(), errMsg: 'getPhoneNumber:ok' } });
  page.onNicknameInput({ detail: { value: 'Mini Mei' } });
  const temp = phone.tempFile(LOGO);
  await page.onChooseAvatar({ detail: { avatarUrl: temp } });
  assert.equal(page.data.avatarPreview, temp);
  assert.match(page.data.avatarUrl, new RegExp('^' + BASE + '/api/v1/avatars/[A-Za-z0-9_-]+\\.png$'));
  assert.equal(phone.calls.uploadFile[0].formData.scanToken.length, 43);

  await page.onConfirm();
  assert.equal(page.data.state, 'done', page.data.message);

  const state = await sessionState(session.sessionId);
  assert.equal(state.status, 'CONFIRMED');
  assert.equal(state.scannedBy.nickname, 'Mini Mei');
  assert.equal(state.scannedBy.avatarUrl, page.data.avatarUrl);
  const exchanged = await browser('POST', '/api/v1/qr/exchange', { ticket: state.ticket });
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
  const user = exchanged.body.user;
  assert.equal(user.phone, mei.phone);
  assert.equal(user.unionid, mei.unionid);
  assert.equal(user.nickname, 'Mini Mei');
  assert.equal(user.avatarUrl, page.data.avatarUrl);

  const picture = await fetch(user.avatarUrl);
  assert.equal(picture.status, 200);
  assert.equal(picture.headers.get('content-type'), 'image/png');
  assert.equal(picture.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(Buffer.from(await picture.arrayBuffer()), fs.readFileSync(LOGO));
});

test('cancel tells the browser, and shares nothing', async () => {
  installWx(BASE, newUser('cancel'));
  miniprogram(BASE);
  const { session, launch } = await showCode();
  const page = await openPage(LOGIN_PAGE, launch);
  assert.equal(page.data.state, 'ready', page.data.message);
  await page.onCancel();
  assert.equal(page.data.state, 'canceled');
  const state = await sessionState(session.sessionId);
  assert.equal(state.status, 'CANCELED');
  assert.equal(state.ticket, undefined);
});

test('a second WeChat user scanning the same code is told it is already scanned (409)', async () => {
  const phone = installWx(BASE, newUser('first'));
  miniprogram(BASE);
  const { session, launch } = await showCode();
  const first = await openPage(LOGIN_PAGE, launch);
  assert.equal(first.data.state, 'ready', first.data.message);

  phone.switchUser(newUser('second'));
  const second = await openPage(LOGIN_PAGE, launch);
  assert.equal(second.data.state, 'error');
  assert.equal(second.data.errorCode, 'already_scanned');
  assert.match(second.data.message, /Someone else already scanned/);
  assert.equal((await sessionState(session.sessionId)).status, 'SCANNED');
});

test('a site that lets only existing accounts in refuses a new user: the page says why, the browser sees FAILED', async () => {
  installWx(BASE, newUser('stranger'));
  miniprogram(BASE);
  const { session, launch } = await showCode('wechat-mini-members');
  const page = await openPage(LOGIN_PAGE, launch);
  assert.equal(page.data.state, 'ready', page.data.message);
  await page.onConfirm();
  assert.equal(page.data.state, 'refused');
  assert.match(page.data.message, /only lets existing accounts log in/);
  const state = await sessionState(session.sessionId);
  assert.equal(state.status, 'FAILED');
  assert.equal(state.error, 'login_only');
});

test('an unreachable gateway is a network error that can be retried in place', async () => {
  installWx(BASE, newUser('offline'));
  const { config } = miniprogram(BASE);
  const { session, launch } = await showCode();
  config.gatewayUrl = 'http://127.0.0.1:9'; // discard port: nothing listens
  config.publicUrl = BASE;
  try {
    const page = await openPage(LOGIN_PAGE, launch);
    assert.equal(page.data.state, 'error');
    assert.equal(page.data.errorCode, 'network_error');
    assert.match(page.data.message, /Cannot reach the login server/);
    config.gatewayUrl = BASE;
    await page.onRetry();
    assert.equal(page.data.state, 'ready', page.data.message);
    assert.equal((await sessionState(session.sessionId)).status, 'SCANNED');
  } finally {
    miniprogram(BASE);
  }
});

test('a page opened without a login code says how it is meant to be opened', async () => {
  installWx(BASE, newUser('nocode'));
  miniprogram(BASE);
  const page = await openPage(LOGIN_PAGE, {});
  assert.equal(page.data.state, 'error');
  assert.match(page.data.message, /scan a login QR code/);
});

test('an expired code is reported as expired', async () => {
  installWx(BASE, newUser('late'));
  miniprogram(BASE);
  const { session, launch } = await showCode();
  // expiresAt is given to the second (truncated): the real expiry may be up to a second later.
  const wait = Date.parse(session.expiresAt) - Date.now() + 1500;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  const page = await openPage(LOGIN_PAGE, launch);
  assert.equal(page.data.state, 'error');
  assert.equal(page.data.errorCode, 'session_expired');
  assert.match(page.data.message, /expired/);
});

test('silent login keeps tokens in storage, refreshes them before expiry as a public client, and carries them to the gateway', async () => {
  const ming = newUser('ming');
  const phone = installWx(BASE, ming);
  const { auth, config } = miniprogram(BASE);

  const home = await openPage('pages/index/index', {});
  assert.ok(home.data.user && home.data.user.id, home.data.message);
  const stored = phone.wx.getStorageSync(auth.STORAGE_KEY);
  assert.ok(stored.accessToken && stored.refreshToken && stored.expiresAt > Date.now());
  assert.equal(phone.calls.login, 1);

  // Sharing the phone number logs in again with the phone code: same user, now with the number.
  await home.onGetPhoneNumber({ detail: { code: await phone.phoneCode() } });
  assert.equal(home.data.user.id, stored.user.id);
  assert.equal(home.data.user.phone, ming.phone);

  // Still fresh: the stored token is used as it is.
  const fresh = phone.wx.getStorageSync(auth.STORAGE_KEY);
  assert.equal(await auth.accessToken(), fresh.accessToken);

  // Near expiry: one refresh (client_id only, no secret), even for calls made together.
  phone.wx.setStorageSync(auth.STORAGE_KEY, Object.assign({}, fresh, { expiresAt: Date.now() + (config.refreshBeforeSeconds - 1) * 1000 }));
  const [t1, t2] = await Promise.all([auth.accessToken(), auth.accessToken()]);
  assert.equal(t1, t2);
  assert.notEqual(t1, fresh.accessToken);
  const refreshed = phone.wx.getStorageSync(auth.STORAGE_KEY);
  assert.notEqual(refreshed.refreshToken, fresh.refreshToken);
  const refreshCalls = phone.calls.request.filter((c) => c.url.endsWith('/oidc/token'));
  assert.equal(refreshCalls.length, 1);
  assert.deepEqual(Object.keys(refreshCalls[0].data).sort(), ['client_id', 'grant_type', 'refresh_token']);
  assert.equal(phone.calls.login, 2, 'no new wx.login for a refresh');

  const me = await auth.authorizedRequest('/oidc/me');
  assert.equal(me.sub, stored.user.id);
  assert.equal(me.phone, ming.phone);

  // A picture for the account: uploaded with the bearer token, saved with PATCH /api/v1/users/me.
  const avatarUrl = await auth.uploadAvatar(phone.tempFile(LOGO));
  const updated = await auth.authorizedRequest('/api/v1/users/me', { method: 'PATCH', data: { avatarUrl, nickname: 'Ming' } });
  assert.equal(updated.avatarUrl, avatarUrl);
  assert.equal(updated.nickname, 'Ming');

  // A refresh token the gateway refuses (unknown, expired or revoked) leads to a new silent login.
  phone.wx.setStorageSync(auth.STORAGE_KEY, Object.assign({}, refreshed, { refreshToken: 'no-such-refresh-token', expiresAt: 0 }));
  const again = await auth.accessToken();
  assert.ok(again);
  assert.equal(phone.calls.login, 3);
  assert.equal((await auth.authorizedRequest('/oidc/me')).sub, stored.user.id);

  auth.logout();
  assert.equal(auth.currentUser(), null);
});
