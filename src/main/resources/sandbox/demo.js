// start-dev's demo application: a public OIDC client (demo-spa) on the gateway's own origin.
// Logs in by the authorization code flow with PKCE through the hosted page, or in place with the
// SDK; shows the user and the tokens. Hooks for tests: #login, #user[data-user-id], #claims.
import {openLoginPage, startScanning, exchange} from '/sdk/scangate.js';

const APP = 'demo-spa';
const redirectUri = location.origin + '/demo/';
const $ = (id) => document.getElementById(id);
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const claimsOf = (jwt) => JSON.parse(new TextDecoder().decode(Uint8Array.from(
  atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));

function fail(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

function show(user, tokens) {
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  const who = $('user');
  who.dataset.userId = user.id || user.sub;
  who.replaceChildren();
  const avatar = user.avatarUrl || user.picture;
  if (avatar) { const img = document.createElement('img'); img.src = avatar; img.alt = ''; who.append(img); }
  const name = document.createElement('strong');
  name.id = 'user-name';
  name.textContent = user.nickname || '(no nickname)';
  who.append(name, ' — user id ', user.id || user.sub);
  $('user-json').textContent = JSON.stringify(user, null, 2);
  $('tokens').textContent = JSON.stringify(tokens, null, 2);
  $('claims').textContent = JSON.stringify(claimsOf(tokens.id_token), null, 2);
}

async function login(popup) {
  const verifier = random(), state = random(), nonce = random();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem('demo.pkce', JSON.stringify({verifier, state, nonce}));
  openLoginPage({appId: APP, redirectUri, state, nonce, codeChallenge: b64url(new Uint8Array(digest)),
    connection: $('connection').value || undefined, popup});
}

// Back from the hosted page: ?code=&state=&iss= (or ?error=).
async function callback(params) {
  const saved = JSON.parse(sessionStorage.getItem('demo.pkce') || 'null');
  sessionStorage.removeItem('demo.pkce');
  history.replaceState(null, '', '/demo/');
  if (params.get('error')) return fail(params.get('error') + ': ' + (params.get('error_description') || ''));
  if (!saved || saved.state !== params.get('state')) return fail('state does not match: not a login this page started');
  const res = await fetch('/oidc/token', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri,
      client_id: APP, code_verifier: saved.verifier})});
  const tokens = await res.json();
  if (!res.ok) return fail('/oidc/token: ' + tokens.error + ': ' + tokens.error_description);
  if (claimsOf(tokens.id_token).nonce !== saved.nonce) return fail('the id token\'s nonce does not match');
  const me = await fetch('/oidc/me', {headers: {Authorization: 'Bearer ' + tokens.access_token}});
  const user = await me.json();
  if (!me.ok) return fail('/oidc/me: ' + user.error);
  // Opened as a popup by this page: hand the login to the opener and close.
  let opener = null;
  try { opener = window.opener && window.opener.location.origin === location.origin ? window.opener : null; } catch (e) { /* another site */ }
  if (opener) {
    opener.postMessage({demoLogin: {user, tokens}}, location.origin);
    window.close();
    return;
  }
  show(user, tokens);
}

window.addEventListener('message', (event) => {
  if (event.origin === location.origin && event.data && event.data.demoLogin) show(event.data.demoLogin.user, event.data.demoLogin.tokens);
});

$('login').addEventListener('click', () => login(false).catch((e) => fail(e.message)));
$('login-popup').addEventListener('click', () => login(true).catch((e) => fail(e.message)));
$('logout').addEventListener('click', () => location.assign('/demo/'));
$('sdk-start').addEventListener('click', () => {
  const say = (text) => { $('sdk-status').textContent = text; };
  say('Loading…');
  startScanning($('sdk-qr'), {
    appId: APP,
    connection: $('connection').value || 'wechat-mini-qr',
    onReady: (session) => say('Scan it (content: ' + session.qrContent + ')'),
    onScanned: (by) => say('Scanned by ' + ((by && by.nickname) || 'someone') + '; confirm on the phone'),
    onSuccess: async ({ticket}) => {
      say('Confirmed; exchanging the ticket…');
      try {
        const {user, tokens} = await exchange(ticket);
        show(user, tokens);
      } catch (e) { fail(e.error + ': ' + e.message); }
    },
    onExpired: () => say('Expired: click again for a fresh code'),
    onCancel: () => say('Canceled on the phone'),
    onError: (e) => say('Error: ' + e.error),
  });
});

const params = new URLSearchParams(location.search);
if (params.has('code') || params.has('error')) callback(params).catch((e) => fail(e.message));
