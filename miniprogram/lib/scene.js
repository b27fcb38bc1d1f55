// The scene of the scanned login code, from a page's launch query:
// - a url-style code (qrStyle: url) opens the page with q = encodeURIComponent("{publicUrl}/qr/{scene}");
// - a wxacode (qrStyle: wxacode) opens it with scene = encodeURIComponent(scene).
const config = require('../config.js');

const SCENE = /^[A-Za-z0-9_-]{1,32}$/;

function decode(value) {
  try {
    return decodeURIComponent(String(value));
  } catch (e) {
    return null;
  }
}

function qrPrefix() {
  const base = (config.publicUrl || config.gatewayUrl).replace(/\/+$/, '');
  return base + '/qr/';
}

/** The scene, or null when the query carries no login code (or one of another site). */
function sceneFrom(query) {
  const q = query || {};
  if (q.q) {
    const link = decode(q.q);
    if (!link || link.indexOf(qrPrefix()) !== 0) return null;
    const scene = link.substring(qrPrefix().length).split(/[?#/]/)[0];
    return SCENE.test(scene) ? scene : null;
  }
  if (q.scene) {
    const scene = decode(q.scene);
    return scene && SCENE.test(scene) ? scene : null;
  }
  return null;
}

module.exports = { sceneFrom, qrPrefix };
