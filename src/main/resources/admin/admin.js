// The /admin page: logs in through /oidc/auth as the public client scangate-admin (PKCE S256,
// max_age=300), exchanges the code here in the browser, keeps the access token in this tab's
// sessionStorage only, and calls /admin/api with it. Everything shown is set as text, never HTML.
'use strict';

const CLIENT_ID = 'scangate-admin';
const REDIRECT_URI = location.origin + '/admin/';
const $ = (id) => document.getElementById(id);
let usersCursor = null;
let auditCursor = null;

function b64url(bytes) {
  let s = '';
  bytes.forEach((b) => { s += String.fromCharCode(b); });
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(n) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

function say(text) {
  $('message').textContent = text || '';
}

function show(panel) {
  for (const id of ['login-panel', 'refused', 'console']) $(id).hidden = id !== panel;
  $('signout').hidden = panel !== 'console';
}

async function login() {
  const verifier = randomText(32);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const state = randomText(16);
  sessionStorage.setItem('scangate.admin.verifier', verifier);
  sessionStorage.setItem('scangate.admin.state', state);
  const params = new URLSearchParams({
    client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI,
    code_challenge: b64url(new Uint8Array(digest)), code_challenge_method: 'S256', state, max_age: '300',
  });
  location.assign('/oidc/auth?' + params.toString());
}

function signOut() {
  sessionStorage.removeItem('scangate.admin.token');
  show('login-panel');
  $('who').textContent = '';
}

/** The authorization response in the address bar, if any: code → token (here, with the PKCE verifier). */
async function finishLogin() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return;
  history.replaceState(null, '', '/admin/');
  const expectedState = sessionStorage.getItem('scangate.admin.state');
  const verifier = sessionStorage.getItem('scangate.admin.verifier');
  sessionStorage.removeItem('scangate.admin.state');
  sessionStorage.removeItem('scangate.admin.verifier');
  if (params.has('error')) {
    say('Login failed: ' + (params.get('error_description') || params.get('error')));
    return;
  }
  if (!expectedState || params.get('state') !== expectedState) {
    say('Login failed: the answer does not belong to a login started here');
    return;
  }
  const res = await fetch('/oidc/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: params.get('code'), redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID, code_verifier: verifier || '',
    }),
  });
  const body = await res.json();
  if (!res.ok) {
    say('Login failed: ' + (body.error_description || body.error));
    return;
  }
  sessionStorage.setItem('scangate.admin.token', body.access_token);
}

async function api(path, method) {
  const token = sessionStorage.getItem('scangate.admin.token');
  const res = await fetch('/admin/api' + path, {
    method: method || 'GET',
    headers: { Authorization: 'Bearer ' + token },
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    signOut();
    throw new Error('Your login has ended; log in again');
  }
  if (res.status === 403) {
    sessionStorage.removeItem('scangate.admin.token');
    $('refused-reason').textContent = body.message || 'Not an administrator';
    show('refused');
    throw new Error('Refused');
  }
  if (!res.ok) throw new Error(body.message || body.error || ('HTTP ' + res.status));
  return body;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text == null ? '' : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function button(parent, label, handler) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', handler);
  parent.appendChild(b);
  return b;
}

function userRow(user) {
  const row = document.createElement('tr');
  row.dataset.userId = user.id;
  cell(row, user.id);
  cell(row, user.nickname);
  cell(row, user.phone);
  cell(row, (user.identities || []).map((i) => i.connection + ':' + i.openid + ' (' + (i.lastLoginAt || 'never') + ')').join('\n'));
  cell(row, user.blocked ? 'blocked' : 'active', user.blocked ? 'status blocked' : 'status');
  const actions = cell(row, '');
  const act = (path, done) => async () => {
    try {
      await api('/users/' + encodeURIComponent(user.id) + path, 'POST');
      say(done);
      const fresh = await api('/users/' + encodeURIComponent(user.id));
      row.replaceWith(userRow(fresh));
    } catch (e) {
      say(e.message);
    }
  };
  if (user.blocked) button(actions, 'Unblock', act('/unblock', 'Unblocked ' + user.id)).className = 'unblock';
  else button(actions, 'Block', act('/block', 'Blocked ' + user.id)).className = 'block';
  button(actions, 'Log out everywhere', act('/logout', 'Logged out ' + user.id + ' everywhere')).className = 'logout';
  button(actions, 'Audit', () => {
    $('audit-user').value = user.id;
    loadAudit(false);
  }).className = 'audit';
  return row;
}

async function loadUsers(more) {
  const params = new URLSearchParams({ limit: '20' });
  const query = $('query').value.trim();
  if (query) params.set('query', query);
  if (more && usersCursor) params.set('cursor', usersCursor);
  try {
    const page = await api('/users?' + params.toString());
    const body = $('users').tBodies[0];
    if (!more) body.textContent = '';
    page.users.forEach((u) => body.appendChild(userRow(u)));
    usersCursor = page.nextCursor || null;
    $('users-more').hidden = !usersCursor;
  } catch (e) {
    say(e.message);
  }
}

async function loadAudit(more) {
  const params = new URLSearchParams({ limit: '50' });
  const user = $('audit-user').value.trim();
  const type = $('audit-type').value.trim();
  if (user) params.set('user', user);
  if (type) params.set('type', type);
  if (more && auditCursor) params.set('cursor', auditCursor);
  try {
    const page = await api('/audit?' + params.toString());
    const body = $('audit').tBodies[0];
    if (!more) body.textContent = '';
    page.events.forEach((e) => {
      const row = document.createElement('tr');
      row.dataset.type = e.type;
      cell(row, e.at);
      cell(row, e.type, 'type');
      cell(row, e.userId);
      cell(row, e.appId);
      cell(row, e.connection);
      cell(row, e.ip);
      cell(row, JSON.stringify(e.detail), 'detail');
      body.appendChild(row);
    });
    auditCursor = page.nextCursor || null;
    $('audit-more').hidden = !auditCursor;
  } catch (e) {
    say(e.message);
  }
}

async function start() {
  $('login').addEventListener('click', login);
  $('login-again').addEventListener('click', login);
  $('signout').addEventListener('click', signOut);
  $('search-form').addEventListener('submit', (e) => { e.preventDefault(); loadUsers(false); });
  $('users-more').addEventListener('click', () => loadUsers(true));
  $('audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(false); });
  $('audit-more').addEventListener('click', () => loadAudit(true));
  try {
    await finishLogin();
  } catch (e) {
    say('Login failed: ' + e.message);
  }
  if (!sessionStorage.getItem('scangate.admin.token')) {
    show('login-panel');
    return;
  }
  try {
    await api('/users?limit=1');
  } catch (e) {
    if (e.message !== 'Refused') say(e.message);
    return;
  }
  show('console');
  $('who').textContent = 'Logged in';
  loadUsers(false);
  loadAudit(false);
}

start();
