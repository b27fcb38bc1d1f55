// ScanGate browser SDK: one source. The gateway serves it as an ES module (/sdk/scangate.js) and
// as a classic script (/sdk/scangate.umd.js, window.ScanGate) by wrapping this file at startup;
// `base` is the gateway's URL, found from where the SDK was loaded.
function createScanGate(base) {
  var TERMINAL = ['CONFIRMED', 'CANCELED', 'EXPIRED', 'FAILED'];
  var url = function (path) { return new URL(path, base).href; };
  var problem = function (error, message, status) {
    var e = new Error(message || error);
    e.error = error;
    e.status = status;
    return e;
  };
  var sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };

  // One call to the gateway's JSON API; failures become Errors with `error` (the API's code) and `status`.
  async function call(method, path, body, signal) {
    var res, json = {};
    try {
      res = await fetch(url(path), {
        method: method, signal: signal, credentials: 'omit',
        headers: body ? {'Content-Type': 'application/json'} : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw problem('network_error', 'The gateway could not be reached, or it does not allow this origin');
    }
    try { json = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw problem(json.error || 'http_' + res.status, json.message || json.error_description, res.status);
    return json;
  }

  /**
   * Follows a QR session until a terminal status: server-sent events first; when they fail (no
   * EventSource, a proxy that buffers, a dropped connection) long polls, reconnecting with backoff.
   * Calls onState for each new status. Returns a function that stops following.
   */
  function follow(session, onState, onFail) {
    var status = session.status, done = false, source = null, abort = null, failures = 0;
    var path = 'api/v1/qr/sessions/' + encodeURIComponent(session.sessionId);
    var stop = function () {
      done = true;
      if (source) source.close();
      if (abort) abort.abort();
    };
    var take = function (state) {
      if (done || !state || !state.status) return;
      failures = 0;
      if (state.status === status) return;
      status = state.status;
      if (TERMINAL.indexOf(status) >= 0) stop();
      onState(state);
    };
    var fail = function (e) {
      if (done) return;
      stop();
      onFail(e);
    };
    var poll = async function () {
      while (!done) {
        try {
          abort = typeof AbortController === 'function' ? new AbortController() : null;
          take(await call('GET', path + '?waitSeconds=25&since=' + status, null, abort && abort.signal));
        } catch (e) {
          if (done) return;
          // The session is gone or not ours: no retry helps.
          if (e.status === 400 || e.status === 403 || e.status === 404) return fail(e);
          if (++failures > 8) return fail(e);
          await sleep(Math.min(250 * Math.pow(2, failures), 8000));
        }
      }
    };
    if (typeof EventSource !== 'function') {
      poll();
    } else {
      source = new EventSource(url(path + '/events'));
      source.addEventListener('status', function (event) {
        try { take(JSON.parse(event.data)); } catch (e) { /* a broken frame: the next one or the poll tells */ }
      });
      source.onerror = function () {
        if (done) return;
        source.close();
        source = null;
        poll();
      };
    }
    return stop;
  }

  /**
   * Shows a login QR code in `element` (an <img>, or a container that gets one) and follows it.
   * Options: appId, connection, alt, size, and the callbacks onReady(session), onStatus(state),
   * onScanned(scannedBy), onSuccess({ticket, scannedBy}), onExpired(), onCancel(), onError(error).
   * Returns {stop(), restart()}: restart() shows a fresh code (after expiry or cancel).
   */
  function startScanning(element, options) {
    var o = options || {};
    var host = typeof element === 'string' ? document.querySelector(element) : element;
    if (!host) throw new Error('startScanning: no element');
    var img = host;
    if (host.tagName !== 'IMG') {
      img = document.createElement('img');
      img.className = 'scangate-qr';
      img.width = img.height = o.size || 200;
      host.replaceChildren(img);
    }
    var stopFollowing = null, run = 0, scannedBy = null;
    var emit = function (name, arg) {
      try { if (typeof o[name] === 'function') o[name](arg); } catch (e) { setTimeout(function () { throw e; }); }
    };
    var begin = async function () {
      var mine = ++run;
      if (stopFollowing) stopFollowing();
      scannedBy = null;
      img.hidden = true;
      img.removeAttribute('src');
      img.alt = o.alt || 'QR code: scan it with WeChat to log in';
      host.setAttribute('data-status', 'LOADING');
      var session;
      try {
        session = await call('POST', 'api/v1/qr/sessions', {appId: o.appId, connection: o.connection});
      } catch (e) {
        if (mine === run) { host.setAttribute('data-status', 'ERROR'); emit('onError', e); }
        return;
      }
      if (mine !== run) return;
      img.setAttribute('data-scene', session.scene);
      img.setAttribute('data-qr-content', session.qrContent || '');
      img.setAttribute('data-connection', session.connection);
      img.onload = function () {
        if (mine !== run) return;
        img.hidden = false;
        if (performance.mark) performance.mark('scangate:code-visible');
        emit('onReady', session);
      };
      img.onerror = function () { if (mine === run) emit('onError', problem('image_failed', 'The QR image could not be loaded')); };
      img.src = url('api/v1/qr/images/' + encodeURIComponent(session.scene) + '.png');
      host.setAttribute('data-status', session.status);
      stopFollowing = follow(session, function (state) {
        if (mine !== run) return;
        host.setAttribute('data-status', state.status);
        if (state.scannedBy) scannedBy = state.scannedBy;
        emit('onStatus', state);
        if (state.status === 'SCANNED') emit('onScanned', scannedBy);
        else if (state.status === 'CONFIRMED') emit('onSuccess', {ticket: state.ticket, scannedBy: scannedBy});
        else if (state.status === 'EXPIRED') emit('onExpired', state);
        else if (state.status === 'CANCELED') emit('onCancel', state);
        else if (state.status === 'FAILED') emit('onError', problem(state.error || 'login_failed', 'The login was refused'));
      }, function (e) {
        if (mine === run) { host.setAttribute('data-status', 'ERROR'); emit('onError', e); }
      });
    };
    begin();
    return {
      stop: function () { run++; if (stopFollowing) stopFollowing(); },
      restart: begin,
    };
  }

  /** Trades a confirmed session's ticket for {user, tokens} (applications with exchangeAuth: none). */
  function exchange(ticket) {
    return call('POST', 'api/v1/qr/exchange', {ticket: ticket});
  }

  /**
   * The URL of the hosted login page. With redirectUri (and PKCE's codeChallenge, state, nonce,
   * scope): the OIDC authorization endpoint, /oidc/auth; without: /login?app_id=, which sends the
   * browser to the application's callbackUrl with ?code= for its backend.
   */
  function loginUrl(o) {
    var q = new URLSearchParams();
    if (!o.redirectUri) {
      q.set('app_id', o.appId);
      if (o.connection) q.set('connection', o.connection);
      return url('login?' + q);
    }
    q.set('client_id', o.appId);
    q.set('redirect_uri', o.redirectUri);
    q.set('response_type', 'code');
    q.set('scope', o.scope || 'openid profile');
    if (o.state) q.set('state', o.state);
    if (o.nonce) q.set('nonce', o.nonce);
    if (o.codeChallenge) { q.set('code_challenge', o.codeChallenge); q.set('code_challenge_method', 'S256'); }
    if (o.connection) q.set('connection', o.connection);
    if (o.prompt) q.set('prompt', o.prompt);
    return url('oidc/auth?' + q);
  }

  /**
   * Opens the hosted login page: in a popup (popup: true; returns the window, or null when the
   * browser blocked it) or by sending this page there (the default).
   */
  function openLoginPage(o) {
    var target = loginUrl(o);
    if (o.popup) {
      var w = o.width || 460, h = o.height || 640;
      var left = (screen.width - w) / 2, top = (screen.height - h) / 2;
      return window.open(target, 'scangate-login', 'popup,width=' + w + ',height=' + h + ',left=' + left + ',top=' + top);
    }
    location.assign(target);
    return null;
  }

  return {startScanning: startScanning, exchange: exchange, follow: follow, loginUrl: loginUrl,
    openLoginPage: openLoginPage, baseUrl: base};
}
