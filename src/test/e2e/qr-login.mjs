// The mini program QR login as a person does it, in Debian's chromium: the PC browser opens the
// start-dev home page and shows a code; a second page plays the phone (/sandbox/phone), scans
// and confirms; the PC page learns it over SSE, exchanges the ticket and shows the user.
// Usage: node qr-login.mjs http://127.0.0.1:PORT   (exit 0 = the flow works)
import { launchChromium } from './common.mjs';

const base = process.argv[2];
const browser = await launchChromium();
const fail = async (message) => {
  console.error('FAILED: ' + message);
  await browser.close();
  process.exit(1);
};
try {
  const pc = await browser.newPage();
  await pc.goto(base + '/');
  await pc.selectOption('#connection', 'wechat-mini-qr');
  await pc.click('#start');
  await pc.waitForSelector('#qr code');
  const content = await pc.textContent('#qr code');
  if (!content.startsWith(base + '/qr/')) await fail('unexpected QR content ' + content);
  await pc.waitForFunction(() => {
    const img = document.querySelector('#qr img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 20000 });

  const phone = await browser.newPage();
  await phone.goto(base + '/sandbox/phone');
  await phone.fill('#nickname', 'E2E Mei');
  await phone.fill('#qrContent', content);
  await phone.click('#miniScan');
  await pc.waitForFunction(() => document.getElementById('status').textContent.startsWith('SCANNED'), null, { timeout: 20000 });
  await phone.click('#miniConfirm');
  await pc.waitForSelector('#result:not([hidden])', { timeout: 20000 });
  const status = await pc.textContent('#status');
  const result = await pc.textContent('#result');
  if (!status.startsWith('CONFIRMED')) await fail('status ' + status);
  if (!result.includes('"nickname": "E2E Mei"') || !result.includes('access_token: ey')) await fail('result ' + result);
  console.log('QR login in the browser: ' + status);
} catch (e) {
  await fail(e.message);
}
await browser.close();
