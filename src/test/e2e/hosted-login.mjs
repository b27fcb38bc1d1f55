// The hosted login page and the browser SDK in Debian's chromium (CONTRACT sections 3 and 7),
// against a start-dev gateway whose QR codes live a few seconds (the test's config):
//   - the demo application (/demo/, a public OIDC client) logs in through /oidc/auth: the hosted
//     page shows the code, the sandbox scans it (Official Account: mp/scan; mini program: scan and
//     confirm), the browser lands back on the demo with a code, and the demo shows the user;
//   - expiry (one click for a fresh code, which then logs in) and cancel on the phone;
//   - the page in Chinese and English (Accept-Language, and the switch), screenshots of both at
//     desktop and phone sizes, its time-to-code and weight;
//   - the SDK on a page of an allowed origin (http://127.0.0.1:PAGE_PORT, served by this script),
//     as an ES module and as a classic script: success (SSE, and long polls when the event stream
//     is blocked), expiry, cancel; the same page from a foreign origin (http://localhost:PAGE_PORT)
//     is refused; only the allowed origin may frame the hosted page.
// Usage: node hosted-login.mjs BASE_URL ARTIFACT_DIR PAGE_PORT   (one line per check; exit 0 = all pass)
import { check, launchChromium, poster } from './common.mjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const [base, artifacts, pagePort] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const allowedOrigin = `http://127.0.0.1:${pagePort}`;
const foreignOrigin = `http://localhost:${pagePort}`;
// The site's pages (a real server: Chromium lets only loopback pages call a loopback gateway).
const sitePages = new Map();
const site = http.createServer((req, res) => {
  const body = sitePages.get(new URL(req.url, allowedOrigin).pathname);
  res.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(body || 'not found');
});
await new Promise((resolve) => site.listen(Number(pagePort), '127.0.0.1', resolve));
const browser = await launchChromium();
const post = poster(base);
const cspViolations = [];
const newPage = async (options = {}) => {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('console', (m) => {
    // (Refused framing is checked on purpose in step 8.)
    if (/Content[- ]Security[- ]Policy/i.test(m.text()) && !/frame-ancestors/.test(m.text())) cspViolations.push(m.text());
  });
  return page;
};

// The phone, played through the sandbox and the mini program API.
const mini = {
  async scan(scene) {
    const wx = await post('/sandbox/control/miniprogram/code', { appId: 'wxsandboxmini0001' });
    return (await post(`/api/v1/miniprogram/qr/${scene}/scan`, { connection: 'wechat-mini-qr', code: wx.code })).scanToken;
  },
  confirm: (scene, scanToken, nickname) => post(`/api/v1/miniprogram/qr/${scene}/confirm`, { scanToken, profile: { nickname } }),
  cancel: (scene, scanToken) => post(`/api/v1/miniprogram/qr/${scene}/cancel`, { scanToken }),
};
const mpScan = (qrContent, openid) => post('/sandbox/control/mp/scan', { connection: 'wechat-mp', qrContent, openid, subscribe: true });

// The hosted page's hooks: #login[data-state], #qr[data-scene][data-qr-content], #status, #again.
const codeShown = async (page) => {
  await page.waitForSelector('#login[data-state="pending"] #qr:not([hidden])', { timeout: 15000 });
  return page.$eval('#qr', (img) => ({ scene: img.dataset.scene, content: img.dataset.qrContent, connection: img.dataset.connection,
    loaded: img.complete && img.naturalWidth > 0 }));
};
const state = (page, wanted, timeout = 20000) => page.waitForSelector(`#login[data-state="${wanted}"]`, { timeout });
const demoShowsUser = async (page) => {
  await page.waitForSelector('#user[data-user-id]', { timeout: 20000 });
  return { id: await page.getAttribute('#user', 'data-user-id'), name: await page.textContent('#user-name'), url: page.url() };
};
// The demo application's login button, which goes to /oidc/auth (PKCE, state, nonce).
const openHostedPageFromDemo = async (page, connection = '') => {
  await page.goto(base + '/demo/');
  await page.selectOption('#connection', connection);
  await Promise.all([page.waitForURL(/\/oidc\/auth\?/), page.click('#login')]);
};

// An authorization request of the demo application (a loopback redirect: any port).
const authUrl = (connection) => {
  const q = new URLSearchParams({ client_id: 'demo-spa', redirect_uri: 'http://127.0.0.1:9/demo/', response_type: 'code',
    scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
  if (connection) q.set('connection', connection);
  return `${base}/oidc/auth?${q}`;
};

try {
  if (!process.env.SDK_ONLY) { // (SDK_ONLY=1: steps 7 and 8 alone, when working on the SDK)
  if (!process.env.PERF_ONLY) { // (PERF_ONLY=1: step 6 alone, when measuring the page)
  // 1. The Official Account flow: demo → hosted page → the follower scans → back on the demo.
  {
    const page = await newPage({ locale: 'en-US' });
    const redirects = [];
    page.on('request', (r) => { if (r.isNavigationRequest()) redirects.push(r.url()); });
    await openHostedPageFromDemo(page);
    const tabs = await page.$$eval('[role="tab"]', (ts) => ts.map((t) => `${t.dataset.connection}:${t.getAttribute('aria-selected')}`));
    check(tabs.join(',') === 'wechat-mp:true,wechat-mini-qr:false', 'the demo application\'s tabs: ' + tabs);
    const code = await codeShown(page);
    check(code.connection === 'wechat-mp' && code.loaded, 'an Official Account code: ' + JSON.stringify(code));
    check(await page.textContent('#qr-link') === code.content, 'the text alternative is the link the code encodes');
    await mpScan(code.content, 'o-hosted-e2e-mp');
    const user = await demoShowsUser(page);
    check(redirects.some((u) => u.startsWith(base + '/demo/?code=')), 'the browser came back to the callback with a code: ' + redirects);
    check(page.url() === base + '/demo/', 'the demo cleaned its URL');
    console.log(`hosted page, Official Account: the demo shows user ${user.id}`);
  }

  // 2. The mini program flow, chosen by its tab; the status names the scanner.
  {
    const page = await newPage({ locale: 'en-US' });
    await openHostedPageFromDemo(page);
    await codeShown(page);
    await page.click('#tab-wechat-mini-qr');
    await page.waitForSelector('#qr[data-connection="wechat-mini-qr"]');
    const code = await codeShown(page);
    check(code.content.startsWith(base + '/qr/'), 'a url-style code: ' + code.content);
    check(await page.getAttribute('#tab-wechat-mini-qr', 'aria-selected') === 'true', 'the chosen tab is selected');
    const scanToken = await mini.scan(code.scene);
    await state(page, 'scanned');
    await mini.confirm(code.scene, scanToken, 'Hosted Mei');
    const user = await demoShowsUser(page);
    check(user.name === 'Hosted Mei', 'the demo shows the nickname: ' + user.name);
    console.log(`hosted page, mini program: the demo shows ${user.name}`);
  }

  // 2b. The SDK's popup helper: the hosted page in a popup, which hands the login to the demo and closes.
  {
    const page = await newPage({ locale: 'en-US' });
    await page.goto(base + '/demo/');
    await page.selectOption('#connection', 'wechat-mini-qr');
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#login-popup')]);
    await popup.waitForURL(/\/oidc\/auth\?/);
    const code = await codeShown(popup);
    const scanToken = await mini.scan(code.scene);
    await mini.confirm(code.scene, scanToken, 'Popup Mei');
    await popup.waitForEvent('close', { timeout: 20000 });
    const user = await demoShowsUser(page);
    check(user.name === 'Popup Mei', 'the opener shows the popup\'s login: ' + user.name);
    console.log('hosted page in a popup (openLoginPage): the demo shows Popup Mei');
    await page.context().close();
  }

  // 3. Only the connection the application named (connection=); expiry; one click for a fresh code.
  {
    const page = await newPage({ locale: 'en-US' });
    await openHostedPageFromDemo(page, 'wechat-mini-qr');
    check((await page.$$('[role="tab"]')).length === 1, 'connection= shows that connection only');
    const first = await codeShown(page);
    await state(page, 'expired', 40000);
    check(await page.isVisible('#again'), 'a button for a fresh code');
    check(await page.evaluate(() => document.activeElement.id) === 'again', 'the fresh-code button has the focus');
    check((await page.textContent('#status')).includes('expired'), 'the status says the code expired');
    await page.click('#again');
    const fresh = await codeShown(page);
    check(fresh.scene !== first.scene, 'a fresh code');
    const scanToken = await mini.scan(fresh.scene);
    await mini.confirm(fresh.scene, scanToken, 'Fresh Code');
    const user = await demoShowsUser(page);
    console.log(`hosted page: the code expired, a fresh one logged ${user.name} in`);
  }

  // 4. Canceled on the phone: the page says so and offers a fresh code.
  {
    const page = await newPage({ locale: 'en-US' });
    await openHostedPageFromDemo(page, 'wechat-mini-qr');
    const code = await codeShown(page);
    const scanToken = await mini.scan(code.scene);
    await state(page, 'scanned');
    await mini.cancel(code.scene, scanToken);
    await state(page, 'canceled');
    check((await page.textContent('#status')).includes('canceled'), 'the status says canceled');
    await page.click('#again');
    const fresh = await codeShown(page);
    check(fresh.scene !== code.scene, 'a fresh code after cancel');
    console.log('hosted page: cancel on the phone, then a fresh code');
  }

  // 5. Languages: Accept-Language picks, the switch changes; screenshots at desktop and phone sizes.
  for (const [lang, locale, heading] of [['zh', 'zh-CN', '微信扫码登录'], ['en', 'en-US', 'Log in with WeChat']]) {
    for (const [size, options] of [['desktop', { viewport: { width: 1280, height: 800 } }],
      ['phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }]]) {
      const page = await newPage({ locale, ...options });
      await page.goto(authUrl());
      await codeShown(page);
      check(await page.textContent('#heading') === heading, `${lang}: the heading ${await page.textContent('#heading')}`);
      if (size === 'phone') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
        check(!overflow, 'no horizontal scrolling on a phone');
      }
      await page.screenshot({ path: `${artifacts}/hosted-page-${lang}-${size}.png`, fullPage: size === 'phone' });
      await page.context().close();
    }
  }
  {
    const page = await newPage({ locale: 'en-US' });
    await page.goto(authUrl());
    await codeShown(page);
    await page.click('#lang-zh');
    check(await page.getAttribute('html', 'lang') === 'zh-CN' && await page.textContent('#heading') === '微信扫码登录', 'switched to Chinese');
    check((await page.textContent('#status')).includes('微信'), 'the status follows the language');
    await page.reload();
    await codeShown(page);
    check(await page.textContent('#heading') === '微信扫码登录', 'the choice is remembered');
    await page.click('#lang-en');
    check(await page.textContent('#heading') === 'Log in with WeChat', 'switched back to English');
    // Keyboard: the arrow keys move between tabs (and open that connection's code).
    await page.focus('#tab-wechat-mp');
    await page.keyboard.press('ArrowRight');
    check(await page.evaluate(() => document.activeElement.id) === 'tab-wechat-mini-qr', 'the arrow key moves to the next tab');
    await page.waitForSelector('#qr[data-connection="wechat-mini-qr"]');
    console.log('hosted page: Chinese and English, switchable; tabs by keyboard; screenshots saved');
  }

  }

  // 6. Time to code and page weight: fresh browser contexts (no cache), each connection.
  // Then the same again in one warm tab (a returning visitor: the files from its cache, immutable).
  const samples = [];
  let warm = null;
  for (let i = 0; i < 32; i++) {
    const connection = i % 2 ? 'wechat-mini-qr' : 'wechat-mp';
    const cold = i < 16;
    if (!cold && !warm) warm = await newPage({ locale: 'en-US' });
    const page = cold ? await newPage({ locale: 'en-US' }) : warm;
    await page.goto(authUrl(connection));
    await codeShown(page);
    samples.push(await page.evaluate(([connection, cold]) => {
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource');
      const mark = performance.getEntriesByName('scangate:code-visible')[0];
      const all = [nav, ...resources];
      const end = (path) => (resources.find((e) => new URL(e.name).pathname.startsWith(path)) || {});
      return {
        connection,
        cold,
        timeToCodeMs: mark.startTime,
        // Where the time goes: the HTML, its files, the scripts run, the session created, the image.
        phases: { html: nav.responseEnd, files: Math.max(end('/static/login/login.js').responseEnd, end('/sdk/scangate.js').responseEnd,
          end('/static/login/login.css').responseEnd), domContentLoaded: nav.domContentLoadedEventEnd,
          sessionStart: end('/api/v1/qr/sessions').startTime, sessionEnd: end('/api/v1/qr/sessions').responseEnd,
          imageEnd: end('/api/v1/qr/images/').responseEnd },
        bytes: all.reduce((n, e) => n + e.encodedBodySize, 0),
        transferBytes: all.reduce((n, e) => n + e.transferSize, 0),
        files: all.map((e) => `${new URL(e.name).pathname.replace(/[A-Za-z0-9_-]{20,}/, '…')} ${e.encodedBodySize}`),
      };
    }, [connection, cold]));
    if (cold) await page.context().close();
  }
  await warm.context().close();
  const stats = (connection, cold) => {
    // The first of each warms the JIT (and the warm tab's cache).
    const s = samples.filter((x) => x.connection === connection && x.cold === cold).slice(1);
    const times = s.map((x) => x.timeToCodeMs).sort((a, b) => a - b);
    const median = (values) => Math.round(values.sort((a, b) => a - b)[Math.floor(values.length / 2)]);
    const phases = Object.fromEntries(Object.keys(s[0].phases).map((k) => [k, median(s.map((x) => x.phases[k]))]));
    return { connection, browser: cold ? 'fresh context (empty cache)' : 'warm tab (files cached: versioned, immutable)', runs: times.length, medianMs: Math.round(times[Math.floor(times.length / 2)]), maxMs: Math.round(times.at(-1)),
      minMs: Math.round(times[0]), medianPhasesMs: phases,
      bytes: Math.max(...s.map((x) => x.bytes)), transferBytes: Math.max(...s.map((x) => x.transferBytes)), files: s[0].files };
  };
  const os = await import('node:os');
  const performanceReport = { date: new Date().toISOString(), chromium: browser.version(),
    machine: `${os.cpus().length} × ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`, loadAverage: os.loadavg(),
    results: [stats('wechat-mp', true), stats('wechat-mini-qr', true), stats('wechat-mp', false), stats('wechat-mini-qr', false)] };
  writeFileSync(`${artifacts}/hosted-page-performance.json`, JSON.stringify(performanceReport, null, 2));
  for (const r of performanceReport.results) {
    check(r.bytes < 50 * 1024, `the page is ${r.bytes} bytes`);
    console.log(`hosted page performance ${r.connection}, ${r.browser}: time to code median ${r.medianMs} ms (min ${r.minMs}, max ${r.maxMs}) over ${r.runs};`
      + ` ${r.bytes} bytes (${r.transferBytes} with headers); median phases ${JSON.stringify(r.medianPhasesMs)}`);
  }
  if (process.env.PERF_ONLY) { await browser.close(); site.close(); process.exit(0); }

  }

  // 7. The SDK on another site's page: the page server's 127.0.0.1 origin is allowed, its localhost one is not.
  const sitePage = (kind) => `<!doctype html><html><head><meta charset="utf-8"><title>A site (${kind})</title></head>
    <body><h1>Log in to a site</h1><div id="login-box"></div><pre id="log"></pre>
    ${kind === 'module'
      ? `<script type="module">import * as ScanGate from '${base}/sdk/scangate.js'; window.ScanGate = ScanGate; window.sdkReady = true;</script>`
      : `<script src="${base}/sdk/scangate.umd.js"></script><script>window.sdkReady = !!window.ScanGate;</script>`}
    <script>
      window.events = [];
      window.scan = (connection) => { window.events = []; window.controller = window.ScanGate.startScanning(document.getElementById('login-box'), {
        appId: 'demo-spa', connection,
        onReady: (s) => events.push({name: 'ready', scene: s.scene}),
        onScanned: (by) => events.push({name: 'scanned', by}),
        onSuccess: (r) => events.push({name: 'success', ticket: r.ticket, by: r.scannedBy}),
        onExpired: () => events.push({name: 'expired'}),
        onCancel: () => events.push({name: 'cancel'}),
        onError: (e) => events.push({name: 'error', error: e.error}),
      }); };
    </script></body></html>`;
  sitePages.set('/module', sitePage('module'));
  sitePages.set('/script', sitePage('script'));
  const siteAt = async (origin, kind, options = {}) => {
    const page = await newPage(options);
    await page.goto(`${origin}/${kind}`);
    await page.waitForFunction(() => window.sdkReady === true);
    return page;
  };
  const event = (page, name, timeout = 20000) => page.waitForFunction((name) => window.events.find((e) => e.name === name), name,
    { timeout }).then((h) => h.jsonValue());
  for (const kind of ['module', 'script']) {
    const page = await siteAt(allowedOrigin, kind);
    // The module page follows its session by long polls: its event stream is blocked.
    if (kind === 'module') await page.route(`${base}/api/v1/qr/sessions/*/events`, (route) => route.abort());
    await page.evaluate(() => window.scan('wechat-mini-qr'));
    const ready = await event(page, 'ready');
    check(await page.$eval('#login-box img', (img) => img.complete && img.naturalWidth > 0), 'the SDK shows the code');
    const scanToken = await mini.scan(ready.scene);
    await event(page, 'scanned');
    await mini.confirm(ready.scene, scanToken, `SDK ${kind}`);
    const success = await event(page, 'success');
    check(success.ticket, 'onSuccess with a ticket');
    const exchanged = await page.evaluate((ticket) => window.ScanGate.exchange(ticket), success.ticket);
    check(exchanged.user.nickname === `SDK ${kind}` && exchanged.tokens.access_token, 'exchange gives the user and tokens');
    console.log(`SDK as ${kind === 'module' ? 'an ES module (long polls)' : 'a script tag (SSE)'}: onSuccess, exchange → ${exchanged.user.nickname}`);

    // Cancel (module) and expiry (script tag).
    await page.evaluate(() => window.scan('wechat-mini-qr'));
    const again = await event(page, 'ready');
    if (kind === 'module') {
      const token = await mini.scan(again.scene);
      await event(page, 'scanned');
      await mini.cancel(again.scene, token);
      await event(page, 'cancel');
      console.log('SDK as an ES module: onCancel');
    } else {
      await event(page, 'expired', 40000);
      console.log('SDK as a script tag: onExpired');
    }
    await page.context().close();
  }
  {
    // The copy-paste example of docs/hosted-page-and-sdk.md, as written (only the gateway's URL replaced).
    const doc = readFileSync(new URL('../../../docs/hosted-page-and-sdk.md', import.meta.url), 'utf8');
    const example = /<!-- example:start -->\s*```html\n([\s\S]*?)```\s*<!-- example:end -->/.exec(doc)[1];
    sitePages.set('/example', example.replaceAll('https://login.example.com', base));
    const page = await newPage({ locale: 'en-US', viewport: { width: 720, height: 480 } });
    await page.goto(`${allowedOrigin}/example`);
    await page.waitForFunction(() => document.getElementById('message').textContent.startsWith('Scan the code'));
    const scene = await page.getAttribute('#login-box img', 'data-scene');
    const scanToken = await mini.scan(scene);
    await page.waitForFunction(() => document.getElementById('message').textContent.startsWith('Scanned by'));
    await mini.confirm(scene, scanToken, 'Example User');
    await page.waitForFunction(() => document.getElementById('message').textContent === 'Hello, Example User!');
    await page.screenshot({ path: `${artifacts}/sdk-example.png` });
    console.log('the SDK example of the docs logs in: Hello, Example User!');
    await page.context().close();
  }
  {
    const page = await siteAt(foreignOrigin, 'script');
    await page.evaluate(() => window.scan('wechat-mini-qr'));
    const refused = await event(page, 'error');
    check(!(await page.$eval('#login-box img', (img) => !!img.getAttribute('src'))), 'no code for a foreign origin');
    console.log(`SDK on a foreign origin: refused (onError ${refused.error})`);
    await page.context().close();
  }

  // 8. Framing (the embedded component): an allowed origin may frame the page, another may not.
  sitePages.set('/embed', `<!doctype html><iframe id="f" src="${authUrl('wechat-mini-qr')}" width="460" height="640"></iframe>`);
  for (const [origin, allowed] of [[allowedOrigin, true], [foreignOrigin, false]]) {
    const page = await newPage();
    await page.goto(`${origin}/embed`);
    await page.waitForTimeout(100);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const shown = await frame.waitForSelector('#qr:not([hidden])', { timeout: allowed ? 15000 : 3000 }).then(() => true, () => false);
    check(shown === allowed, `${origin} ${allowed ? 'may' : 'may not'} frame the page (shown: ${shown})`);
    await page.context().close();
  }
  console.log('framing: only the application\'s allowed origins');

  check(cspViolations.length === 0, 'CSP violations: ' + cspViolations.join('\n'));
  console.log('no CSP violations');
  console.log('Hosted page and SDK: OK');
  await browser.close();
  site.close();
} catch (e) {
  console.error('FAILED: ' + (e.stack || e));
  await browser.close();
  site.close();
  process.exit(1);
}
