// Authing's mini program SDK (authing-wxapp-sdk) against ScanGate, in node with the `wx` global
// it expects: loginByCode with a sandbox code (what wx.login gives) returns a user with a token,
// which the SDK keeps in wx storage; /auth/verify accepts the user's access token.
// Usage: node authing-wxapp.mjs http://127.0.0.1:PORT   (exit 0 = it works)
import { createRequire } from 'node:module';

const base = process.argv[2];
const storage = new Map();
const sandboxCode = async () => {
  const r = await fetch(base + '/sandbox/control/miniprogram/code', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ appId: 'wxsandboxmini0001', openid: 'o-wxapp-e2e', unionid: 'u-wxapp-e2e' }),
  });
  return (await r.json()).code;
};
// The mini program runtime's API, as far as the SDK uses it (storage; requests go through wx-axios).
globalThis.wx = {
  setStorageSync: (key, value) => storage.set(key, value),
  getStorageSync: (key) => storage.get(key) ?? '',
  removeStorageSync: (key) => storage.delete(key),
  login: async () => ({ code: await sandboxCode() }),
  // Headers the SDK leaves undefined (x-authing-userpool-id without a userPoolId) are not sent.
  request: ({ url, method, data, header, success, fail }) => fetch(url, {
    method,
    headers: Object.fromEntries(Object.entries({ 'Content-Type': 'application/json', ...header }).filter(([, v]) => v !== undefined)),
    body: data === undefined ? undefined : (typeof data === 'string' ? data : JSON.stringify(data)),
  }).then(async (r) => success({ data: await r.json(), statusCode: r.status, header: Object.fromEntries(r.headers) }), fail),
};

const require = createRequire(import.meta.url);
const { AuthenticationClient } = require('authing-wxapp-sdk');
// In a mini program wx-axios sends through wx.request; under node it would pick node's http
// adapter, so the client is given the adapter the mini program runtime uses.
const wxRequestAdapter = require('wx-axios/lib/adapters/wx-request.js');
const fail = (message) => {
  console.error('FAILED: ' + message);
  process.exit(1);
};
try {
  const authing = new AuthenticationClient({ appId: 'demo', host: base });
  authing.httpClient.axios.defaults.adapter = wxRequestAdapter;
  const { code } = await wx.login();
  const user = await authing.loginByCode(code);
  if (!user.token || !user.accessToken || user.openid !== 'o-wxapp-e2e') fail('user ' + JSON.stringify(user));
  if (wx.getStorageSync('_authing_token') !== user.token) fail('the SDK did not keep the token');
  const verified = await fetch(base + '/auth/verify', { headers: { Authorization: 'Bearer ' + user.accessToken } });
  if (verified.status !== 200) fail('/auth/verify answered ' + verified.status);
  const reused = await authing.loginByCode(code).then(() => 'accepted', () => 'refused');
  if (reused !== 'refused') fail('a used wx.login code was accepted');
  console.log('Authing mini program SDK loginByCode: user ' + user.id + ' with a token');
} catch (e) {
  fail(e.stack || e.message);
}
