// Silent login for the mini program's own pages: wx.login → /api/v1/miniprogram/login, tokens
// kept in storage, the access token refreshed before it expires (/oidc/token, refresh_token
// grant, as the public client config.appId: a mini program cannot keep a secret).
//
//   const auth = require('../../lib/auth.js');
//   const user = await auth.ensureLogin();
//   const res = await auth.authorizedRequest('/api/v1/users/me', { method: 'PATCH', data: {...} });
const config = require('../config.js');
const gateway = require('./gateway.js');

const STORAGE_KEY = 'scangate.session';
let pending = null; // one login or refresh at a time: refresh tokens rotate, a second use would revoke them

function now() {
  return Date.now();
}

function load() {
  try {
    const s = wx.getStorageSync(STORAGE_KEY);
    return s && s.accessToken ? s : null;
  } catch (e) {
    return null;
  }
}

function save(user, tokens) {
  const s = {
    user: user || (load() || {}).user || null,
    accessToken: tokens.access_token,
    idToken: tokens.id_token,
    refreshToken: tokens.refresh_token,
    expiresAt: now() + Number(tokens.expires_in || 0) * 1000
  };
  wx.setStorageSync(STORAGE_KEY, s);
  return s;
}

function clear() {
  wx.removeStorageSync(STORAGE_KEY);
}

function once(work) {
  if (!pending) pending = work().finally(() => { pending = null; });
  return pending;
}

/** Logs in with a fresh wx.login code (and, if given, a getPhoneNumber code): the user. */
function login(phoneCode) {
  return once(async () => {
    const code = await gateway.wxLogin();
    const body = { appId: config.appId, connection: config.loginConnection, code };
    if (phoneCode) body.phoneCode = phoneCode;
    const answer = await gateway.post('/api/v1/miniprogram/login', body);
    return save(answer.user, answer.tokens).user;
  });
}

/** Rotates the refresh token; a refused one (expired, revoked, reused) leads to a new silent login. */
function refresh() {
  return once(async () => {
    const s = load();
    if (!s || !s.refreshToken) throw new gateway.GatewayError(0, 'not_logged_in', 'no session to refresh');
    try {
      const tokens = await gateway.request('/oidc/token', {
        method: 'POST',
        form: true,
        data: { grant_type: 'refresh_token', refresh_token: s.refreshToken, client_id: config.appId }
      });
      return save(s.user, tokens);
    } catch (e) {
      if (e.status === 400 || e.status === 401) {
        clear();
        return null;
      }
      throw e;
    }
  }).then((s) => s || login().then(() => load()));
}

/** The stored user, logging in first when there is no session. */
async function ensureLogin() {
  const s = load();
  if (s) return s.user;
  return login();
}

/** A valid access token: refreshed when it has less than refreshBeforeSeconds left. */
async function accessToken() {
  if (pending) await pending.catch(() => {});
  let s = load();
  if (!s) {
    await login();
    s = load();
  } else if (s.expiresAt - now() < config.refreshBeforeSeconds * 1000) {
    s = await refresh();
  }
  return s.accessToken;
}

/** A gateway call with the bearer token; one new login and retry if the token was refused. */
async function authorizedRequest(path, options) {
  const opts = Object.assign({}, options);
  const call = async () => gateway.request(path, Object.assign({}, opts, {
    header: Object.assign({}, opts.header, { Authorization: 'Bearer ' + (await accessToken()) })
  }));
  try {
    return await call();
  } catch (e) {
    if (e.status !== 401) throw e;
    clear();
    return call();
  }
}

/**
 * Uploads a chooseAvatar picture for the logged-in user: the gateway URL to save with
 * authorizedRequest('/api/v1/users/me', { method: 'PATCH', data: { avatarUrl } }).
 */
async function uploadAvatar(filePath) {
  const answer = await gateway.upload('/api/v1/miniprogram/avatar', filePath, {}, { Authorization: 'Bearer ' + (await accessToken()) });
  return answer.avatarUrl;
}

/** Forgets the tokens on this phone. */
function logout() {
  clear();
}

function currentUser() {
  const s = load();
  return s ? s.user : null;
}

module.exports = { login, refresh, ensureLogin, accessToken, authorizedRequest, uploadAvatar, logout, currentUser, STORAGE_KEY };
