// Calls to the gateway through wx.request / wx.uploadFile, as promises. A call the gateway
// answers with an error becomes a GatewayError carrying its status and error code; a call that
// never got an answer (no network, DNS, TLS, domain not allowed) one with status 0 and code
// "network_error".
const config = require('../config.js');

class GatewayError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = 'GatewayError';
    this.status = status;
    this.code = code;
  }
}

function url(path) {
  return config.gatewayUrl.replace(/\/+$/, '') + path;
}

function fromResponse(statusCode, data) {
  let body = data;
  if (typeof body === 'string') {
    try {
      body = body ? JSON.parse(body) : {};
    } catch (e) {
      body = {};
    }
  }
  if (statusCode >= 200 && statusCode < 300) return body || {};
  const code = (body && body.error) || 'http_' + statusCode;
  const message = (body && (body.message || body.error_description)) || 'HTTP ' + statusCode;
  throw new GatewayError(statusCode, code, message);
}

function networkError(err) {
  return new GatewayError(0, 'network_error', (err && err.errMsg) || 'request failed');
}

/** JSON request; options: { method, data, header, form } (form: send data urlencoded). */
function request(path, options) {
  const opts = options || {};
  const header = Object.assign({}, opts.header);
  header['content-type'] = opts.form ? 'application/x-www-form-urlencoded' : 'application/json';
  return new Promise((resolve, reject) => {
    wx.request({
      url: url(path),
      method: opts.method || 'GET',
      data: opts.data,
      header,
      dataType: 'json',
      success: (res) => {
        try {
          resolve(fromResponse(res.statusCode, res.data));
        } catch (e) {
          reject(e);
        }
      },
      fail: (err) => reject(networkError(err))
    });
  });
}

function post(path, data, header) {
  return request(path, { method: 'POST', data: data || {}, header });
}

/** Multipart upload of a local file (a chooseAvatar temporary path) as the part "file". */
function upload(path, filePath, formData, header) {
  return new Promise((resolve, reject) => {
    wx.uploadFile({
      url: url(path),
      filePath,
      name: 'file',
      formData: formData || {},
      header: header || {},
      success: (res) => {
        try {
          resolve(fromResponse(res.statusCode, res.data));
        } catch (e) {
          reject(e);
        }
      },
      fail: (err) => reject(networkError(err))
    });
  });
}

/** wx.login's one-time code. */
function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res && res.code ? resolve(res.code) : reject(new GatewayError(0, 'wx_login_failed', 'wx.login gave no code'))),
      fail: (err) => reject(new GatewayError(0, 'wx_login_failed', (err && err.errMsg) || 'wx.login failed'))
    });
  });
}

module.exports = { GatewayError, request, post, upload, wxLogin, url };
