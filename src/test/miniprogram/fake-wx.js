// A small fake of the WeChat mini program runtime, enough for the pages' logic: wx.login (codes
// minted by the gateway's sandbox, as WeChat would give them to this user), wx.request and
// wx.uploadFile (real HTTP to the gateway), storage, Page() and a page's lifecycle.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const MINIPROGRAM = path.resolve(__dirname, '../../../miniprogram');
const WECHAT_APP_ID = 'wxsandboxmini0001';

/** Installs a fresh global wx for the phone of `user` ({openid, unionid?, phone?}) against `base`. */
function installWx(base, user) {
  const storage = new Map();
  const files = new Map(); // temporary path (http://tmp/...) → local file
  const calls = { login: 0, request: [], uploadFile: [] };
  let current = Object.assign({}, user);

  async function mint(extra) {
    const body = Object.assign({ appId: WECHAT_APP_ID, openid: current.openid }, extra);
    if (current.unionid) body.unionid = current.unionid;
    const res = await fetch(base + '/sandbox/control/miniprogram/code', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
    });
    if (res.status !== 200) throw new Error('sandbox code: ' + res.status + ' ' + (await res.text()));
    return res.json();
  }

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return text;
    }
  }

  const wx = {
    login({ success, fail, complete } = {}) {
      calls.login++;
      mint({}).then((c) => {
        const res = { code: c.code, errMsg: 'login:ok' };
        if (success) success(res);
        if (complete) complete(res);
      }, (e) => {
        const err = { errMsg: 'login:fail ' + e.message };
        if (fail) fail(err);
        if (complete) complete(err);
      });
    },

    request({ url, method = 'GET', data, header = {}, success, fail, complete } = {}) {
      calls.request.push({ url, method, data, header });
      const headers = {};
      Object.keys(header).forEach((k) => { headers[k.toLowerCase()] = header[k]; });
      let target = url;
      let body;
      if (method === 'GET' && data) {
        target += (url.includes('?') ? '&' : '?') + new URLSearchParams(data).toString();
      } else if (data !== undefined) {
        const form = (headers['content-type'] || '').startsWith('application/x-www-form-urlencoded');
        body = typeof data === 'string' ? data : form ? new URLSearchParams(data).toString() : JSON.stringify(data);
      }
      fetch(target, { method, headers, body }).then(async (res) => {
        const text = await res.text();
        const answer = { statusCode: res.status, data: parse(text), header: Object.fromEntries(res.headers), errMsg: 'request:ok' };
        if (success) success(answer);
        if (complete) complete(answer);
      }, (e) => {
        const err = { errMsg: 'request:fail ' + (e.cause ? e.cause.code || e.cause.message : e.message) };
        if (fail) fail(err);
        if (complete) complete(err);
      });
    },

    uploadFile({ url, filePath, name, formData = {}, header = {}, success, fail, complete } = {}) {
      calls.uploadFile.push({ url, filePath, name, formData, header });
      Promise.resolve().then(() => {
        const local = files.get(filePath) || filePath;
        const form = new FormData();
        Object.keys(formData).forEach((k) => form.append(k, formData[k]));
        form.append(name, new Blob([fs.readFileSync(local)]), path.basename(local));
        return fetch(url, { method: 'POST', headers: header, body: form });
      }).then(async (res) => {
        const answer = { statusCode: res.status, data: await res.text(), errMsg: 'uploadFile:ok' };
        if (success) success(answer);
        if (complete) complete(answer);
      }, (e) => {
        const err = { errMsg: 'uploadFile:fail ' + e.message };
        if (fail) fail(err);
        if (complete) complete(err);
      });
    },

    getStorageSync(key) {
      return storage.has(key) ? JSON.parse(storage.get(key)) : '';
    },
    setStorageSync(key, value) {
      storage.set(key, JSON.stringify(value));
    },
    removeStorageSync(key) {
      storage.delete(key);
    },
    exitMiniProgram() {
      calls.exited = true;
    }
  };

  global.wx = wx;
  global.App = () => {};
  global.getApp = () => ({});
  return {
    wx,
    calls,
    storage,
    /** Another WeChat user picks up the phone. */
    switchUser(next) {
      current = Object.assign({}, next);
    },
    /** What the getPhoneNumber button's event carries for this user's phone. */
    async phoneCode() {
      return (await mint({ phone: current.phone })).phoneCode;
    },
    /** A picture chooseAvatar would give: a temporary path backed by a local file. */
    tempFile(localPath) {
      const temp = 'http://tmp/' + Math.random().toString(36).slice(2) + path.extname(localPath);
      files.set(temp, localPath);
      return temp;
    }
  };
}

/** Loads a page as WeChat would: registers it with Page(), makes an instance, runs onLoad(query). */
async function openPage(route, query) {
  const file = path.join(MINIPROGRAM, route + '.js');
  let definition = null;
  global.Page = (d) => { definition = d; };
  delete require.cache[require.resolve(file)];
  require(file);
  if (!definition) throw new Error(route + ' did not call Page()');
  const page = {};
  for (const [k, v] of Object.entries(definition)) {
    if (k !== 'data') page[k] = v;
  }
  page.data = JSON.parse(JSON.stringify(definition.data || {}));
  page.route = route;
  page.setData = (patch) => { Object.assign(page.data, patch); };
  if (page.onLoad) await page.onLoad(query || {});
  if (page.onShow) await page.onShow();
  return page;
}

/** The mini program's own modules, with its config pointed at the gateway under test. */
function miniprogram(base) {
  const config = require(path.join(MINIPROGRAM, 'config.js'));
  config.gatewayUrl = base;
  config.publicUrl = '';
  config.appId = 'miniapp';
  config.qrConnection = 'wechat-mini-qr';
  config.loginConnection = 'wechat-mini';
  return {
    config,
    auth: require(path.join(MINIPROGRAM, 'lib/auth.js')),
    scene: require(path.join(MINIPROGRAM, 'lib/scene.js')),
    gateway: require(path.join(MINIPROGRAM, 'lib/gateway.js'))
  };
}

module.exports = { installWx, openPage, miniprogram, MINIPROGRAM };
