// What the browser and node tests share: Debian's chromium with the flags this machine needs, a
// check that throws its message, and a JSON POST to the gateway.
import { chromium } from 'playwright-core';

/** Headless Debian chromium (CHROMIUM overrides the path); `extraArgs` add to the fixed flags. */
export const launchChromium = (...extraArgs) => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
});

export const check = (ok, message) => { if (!ok) throw new Error(message); };

/** POST `body` as JSON to `base + path`; the answer's JSON ({} when empty), or an Error naming the path and status. */
export const poster = (base) => async (path, body) => {
  const res = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
};
