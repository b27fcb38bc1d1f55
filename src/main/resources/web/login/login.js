// The hosted login page (/oidc/auth, /login): shows the code of the chosen connection, follows it
// with the SDK (SSE, long-poll fallback), and once confirmed trades the ticket for the redirect.
// Settings come from the page as data (#settings); no inline script (the CSP forbids it).
import {startScanning} from '/sdk/scangate.js';

const $ = (id) => document.getElementById(id);
const settings = JSON.parse($('settings').textContent);
const page = $('login'), img = $('qr'), statusLine = $('status'), again = $('again'), alt = $('alt'), link = $('qr-link');
const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
let lang = settings.lang;
let current = null;      // the scanner of the shown code
let shown = null;        // {key, vars} of the status line, re-rendered when the language changes
let connection = settings.connection;

const text = (key, vars) => {
  const table = settings.strings[lang] || settings.strings.en;
  return (table[key] || settings.strings.en[key] || key).replace(/\{(\w+)\}/g, (m, name) => (vars && vars[name]) ?? '');
};
const kindOf = (id) => (settings.connections.find((c) => c.id === id) || {}).kind;

function say(key, vars) {
  shown = {key, vars};
  statusLine.textContent = text(key, vars);
}

function scene(state) {
  page.dataset.state = state;
  const finished = state === 'expired' || state === 'canceled' || state === 'failed' || state === 'error';
  again.hidden = !finished;
  img.classList.toggle('stale', finished || state === 'confirmed');
  if (finished) again.focus();
}

function render() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = text('title', {app: settings.appName});
  $('heading').textContent = text('heading');
  $('tabs').setAttribute('aria-label', text('tabs'));
  $('langs').setAttribute('aria-label', text('language'));
  tabs.forEach((tab) => { tab.textContent = tab.dataset.label || text(tab.dataset.kind); });
  again.textContent = text('again');
  $('alt-intro').textContent = text('linkIntro');
  img.alt = text('qrAlt', {app: settings.appName});
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  if (shown) say(shown.key, shown.vars);
}

async function complete(ticket) {
  scene('confirmed');
  say('confirmed');
  try {
    const res = await fetch(settings.complete, {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({authRequest: settings.authRequest, ticket})});
    const answer = await res.json().catch(() => ({}));
    if (res.ok && answer.redirect) {
      page.dataset.state = 'redirecting';
      location.assign(answer.redirect);
      return;
    }
    scene('error');
    say('error', {message: answer.error_description || answer.message || answer.error || res.status});
  } catch (e) {
    scene('error');
    say('error', {message: e.message});
  }
}

function start() {
  if (current) current.stop();
  scene('loading');
  say('loading');
  alt.hidden = true;
  $('hint').textContent = (settings.connections.find((c) => c.id === connection) || {}).hint || '';
  current = startScanning(img, {
    appId: settings.appId,
    connection,
    alt: text('qrAlt', {app: settings.appName}),
    onReady(session) {
      scene('pending');
      say(kindOf(session.connection) === 'mp' ? 'pendingMp' : 'pendingMini');
      // A text alternative to the code: the link it encodes (not for WeChat's own wxacode scenes).
      const content = session.qrContent || '';
      alt.hidden = !/^https?:\/\//.test(content);
      link.href = alt.hidden ? '#' : content;
      link.textContent = content;
    },
    onScanned(by) {
      scene('scanned');
      if (by && by.nickname) say('scanned', {name: by.nickname});
      else say('scannedAnonymous');
    },
    onSuccess({ticket}) { complete(ticket); },
    onExpired() { scene('expired'); say('expired'); },
    onCancel() { scene('canceled'); say('canceled'); },
    onError(e) {
      if (settings.strings.en['failed_' + e.error]) { scene('failed'); say('failed_' + e.error); }
      else if (e.error === 'login_failed') { scene('failed'); say('failed'); }
      else { scene('error'); say('error', {message: e.message || e.error}); }
    },
  });
}

function choose(tab, focus) {
  tabs.forEach((t) => {
    const selected = t === tab;
    t.setAttribute('aria-selected', String(selected));
    t.tabIndex = selected ? 0 : -1;
  });
  $('panel').setAttribute('aria-labelledby', tab.id);
  if (focus) tab.focus();
  if (tab.dataset.connection !== connection || !current) {
    connection = tab.dataset.connection;
    start();
  }
}

tabs.forEach((tab, i) => {
  tab.addEventListener('click', () => choose(tab, false));
  tab.addEventListener('keydown', (e) => {
    const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[e.key];
    if (step) { e.preventDefault(); choose(tabs[(i + step + tabs.length) % tabs.length], true); }
    if (e.key === 'Home') { e.preventDefault(); choose(tabs[0], true); }
    if (e.key === 'End') { e.preventDefault(); choose(tabs[tabs.length - 1], true); }
  });
});
again.addEventListener('click', () => { start(); $('panel').focus(); });
for (const b of document.querySelectorAll('[data-lang]')) {
  b.addEventListener('click', () => {
    lang = b.dataset.lang;
    try { localStorage.setItem('scangate.lang', lang); } catch (e) { /* storage off */ }
    render();
  });
}
try {
  const saved = localStorage.getItem('scangate.lang');
  if (saved && settings.strings[saved] && saved !== lang) { lang = saved; render(); }
} catch (e) { /* storage off */ }

start();
