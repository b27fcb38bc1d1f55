// The phone side of a mini program QR login (the gateway's /api/v1/miniprogram/qr/{scene}/...):
// scan (who scans, which browser asked), upload an avatar, confirm or cancel.
const config = require('../config.js');
const gateway = require('./gateway.js');

/** Scans the code: { scanToken, session: { appName, createdAt, ip, userAgent } }. */
async function scan(scene) {
  const code = await gateway.wxLogin();
  return gateway.post('/api/v1/miniprogram/qr/' + scene + '/scan', { connection: config.qrConnection, code });
}

/**
 * Uploads the picture chooseAvatar gave (a temporary local path, meaningless to anyone else) and
 * returns the gateway URL to put in the profile.
 */
async function uploadAvatar(scanToken, filePath) {
  const answer = await gateway.upload('/api/v1/miniprogram/avatar', filePath, { scanToken });
  return answer.avatarUrl;
}

/**
 * Confirms the login: { ok: true } or { ok: false, error } when the gateway refused this user
 * (e.g. login_only: only existing accounts may log in).
 */
async function confirm(scene, scanToken, choices) {
  const c = choices || {};
  const body = { scanToken };
  if (c.phoneCode) body.phoneCode = c.phoneCode;
  const profile = {};
  if (c.nickname && c.nickname.trim()) profile.nickname = c.nickname.trim();
  if (c.avatarUrl) profile.avatarUrl = c.avatarUrl;
  if (Object.keys(profile).length) body.profile = profile;
  const answer = await gateway.post('/api/v1/miniprogram/qr/' + scene + '/confirm', body);
  if (answer && answer.status === 'FAILED') return { ok: false, error: answer.error, message: answer.message };
  return { ok: true };
}

function cancel(scene, scanToken) {
  return gateway.post('/api/v1/miniprogram/qr/' + scene + '/cancel', { scanToken });
}

/** What to tell the person for a failed call or a refused login. */
function messageFor(errorOrCode) {
  const code = typeof errorOrCode === 'string' ? errorOrCode : errorOrCode && errorOrCode.code;
  switch (code) {
    case 'session_expired':
      return 'This QR code has expired. Refresh it on the computer and scan again.';
    case 'session_not_found':
      return 'This QR code is not valid any more. Refresh it on the computer and scan again.';
    case 'already_scanned':
      return 'Someone else already scanned this QR code. Refresh it on the computer and scan again.';
    case 'session_finished':
      return 'This login has already finished (confirmed or canceled).';
    case 'not_scanned':
    case 'invalid_scan_token':
      return 'This QR code was scanned again elsewhere. Scan it again to continue.';
    case 'login_only':
      return 'This WeChat account has no account on this site, and the site only lets existing accounts log in.';
    case 'user_blocked':
      return 'This account may not log in.';
    case 'rate_limited':
      return 'Too many attempts. Wait a minute and try again.';
    case 'invalid_code':
    case 'wx_login_failed':
      return 'WeChat could not confirm who you are. Please try again.';
    case 'invalid_profile':
      return 'The nickname or picture cannot be used. Choose another one.';
    case 'unsupported_image_type':
      return 'The picture must be a PNG, JPEG or WebP image.';
    case 'avatar_too_large':
      return 'The picture is too large (at most 1 MB).';
    case 'network_error':
      return 'Cannot reach the login server. Check your network connection and try again.';
    case 'service_unavailable':
      return 'The login server is busy. Please try again in a moment.';
    default:
      return 'Something went wrong (' + (code || 'unknown error') + '). Please try again.';
  }
}

/** The browser's time, as the person reads it: "2026-12-01 04:39". */
function formatTime(iso) {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const pad = (n) => (n < 10 ? '0' + n : '' + n);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
}

module.exports = { scan, uploadAvatar, confirm, cancel, messageFor, formatTime };
