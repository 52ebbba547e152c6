// The consent page (issue 13) in a real browser: Debian's Chromium driven
// by playwright-core. It makes a store with one brand (slug "ornek", a
// Turkish name and information text), starts `izin serve` on a loopback
// port (codes valid 5 s, so that an expired code can be tried), and, as a
// person on a phone (360 px, JavaScript off: plain forms), gives consent
// for MESAJ and ARAMA, withdraws consent, enters five wrong codes and an
// expired one. The code is read from the SMS log sink (DATA/sms.log), the
// result from the consent API. Every page: its status, the kit's CSP, no
// console error, nothing wider than the window, every control visible;
// screenshots into build/browser/. A last pass at 320 px checks the layout.
// A second brand (slug "iysli") is İYS-verified: its account's İYS is an
// `izin iys-sim`, whose OTP management sends the code (read from the
// emulator's /_sim/otp) and checks it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, checkPage, clickAndWait, openContext, startIzin, stopIzin } from './kit.mjs';

const BRAND = 700001;
const BRAND_NAME = 'Örnek Çiçekçilik ve Şekerleme';
const INFO = 'Örnek Çiçekçilik A.Ş. olarak kişisel verilerinizi 6698 sayılı Kişisel Verilerin ' +
  'Korunması Kanunu uyarınca, yalnızca size kampanya ve duyuru iletmek amacıyla işleriz.\n' +
  'İzninizi dilediğiniz zaman bu sayfadan geri alabilirsiniz.';
const TTL = 5;

const IYS_BRAND = 700009;
let srv; // { proc, base, dir, key }
let sim; // { proc, base, dir }
let browser;
let phones = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const newPhone = () => `+90535${String(process.pid % 1000).padStart(3, '0')}${String(++phones).padStart(4, '0')}`;
const typed = (p) => `0${p.slice(3, 6)} ${p.slice(6, 9)} ${p.slice(9, 11)} ${p.slice(11)}`;

function izin(...args) {
  return execFileSync(IZIN, [...args, '--data', srv.dir], { encoding: 'utf8' });
}


/** The last code the log sink sent to phone. */
async function codeFor(phone) {
  for (let i = 0; i < 200; i++) {
    const log = path.join(srv.dir, 'sms.log');
    if (fs.existsSync(log)) {
      const mine = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
        .filter((m) => m.to === phone);
      if (mine.length) return mine.at(-1).text.match(/\b(\d{6})\b/)[1];
    }
    await sleep(50);
  }
  throw new Error(`no code SMS to ${phone}`);
}

async function consent(recipient, type) {
  const r = await fetch(`${srv.base}/v1/brands/${BRAND}/consents/${encodeURIComponent(recipient)}?type=${type}`,
    { headers: { Authorization: `Bearer ${srv.key}` } });
  return { status: r.status, body: r.status === 200 ? await r.json() : null };
}

/** Every form control is inside the window's width and can be seen. */
async function controlsVisible(v, name) {
  const controls = v.page.locator('main input:not([type=hidden]), main button, main a');
  const n = await controls.count();
  assert.ok(n > 0, name);
  for (let i = 0; i < n; i++) {
    const c = controls.nth(i);
    await c.scrollIntoViewIfNeeded();
    const box = await c.boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, `${name}: control ${i} is not visible`);
    assert.ok(box.x >= 0 && box.x + box.width <= v.width + 0.5, `${name}: control ${i} sticks out`);
  }
}

/** Fill the first form and ask for a code; returns the code page's response. */
async function askCode(v, phone, { types = ['MESAJ'], ret = false, name, slug = 'ornek',
  sent = '6 haneli bir kod gönderdik' }) {
  const { page } = v;
  await checkPage(v, await page.goto(`${srv.base}/c/${slug}`), `${name}-1-sayfa`);
  await controlsVisible(v, `${name}-1-sayfa`);
  await page.getByLabel(ret ? 'İznimi geri alıyorum' : 'İzin veriyorum').check();
  for (const [t, label] of [['MESAJ', 'SMS (kısa mesaj)'], ['ARAMA', 'Telefon araması']]) {
    const box = page.getByLabel(label);
    if (types.includes(t)) await box.check(); else await box.uncheck();
  }
  await page.getByLabel('Cep telefonu numaranız').fill(typed(phone));
  const resp = await clickAndWait(v, page.getByRole('button', { name: 'Doğrulama kodu gönder' }));
  await checkPage(v, resp, `${name}-2-kod`);
  await page.getByText(sent).waitFor();
  await controlsVisible(v, `${name}-2-kod`);
  return resp;
}

async function enterCode(v, code, name, status) {
  await v.page.getByLabel('SMS ile gelen 6 haneli kod').fill(code);
  return checkPage(v, await clickAndWait(v, v.page.getByRole('button', { name: 'Onayla' })), name, status);
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'izin-cpage-'));
  srv = { dir };
  izin('init');
  izin('account', 'add', '--name', 'ornek', '--iys-code', String(BRAND));
  izin('brand', 'add', '--account', 'ornek', '--code', String(BRAND), '--name', BRAND_NAME, '--slug', 'ornek');
  fs.writeFileSync(path.join(dir, 'info.txt'), INFO);
  izin('brand', 'set', '--code', String(BRAND), '--info-text', path.join(dir, 'info.txt'));
  srv.key = izin('key', 'add', '--account', 'ornek').trim();
  // The İYS-verified brand: a provider at the emulator with ViA Pass credit
  // and a verify-only SMS OTP template.
  const simDir = fs.mkdtempSync(path.join(os.tmpdir(), 'izin-cpage-sim-'));
  sim = { dir: simDir, ...(await startIzin(['iys-sim', '--listen', '127.0.0.1:0', '--data', simDir,
    '--pull-lag', '0', '--bulk-delay', '0', '--rate', '0', '--token-limit', '0'], simDir)) };
  const simCall = async (method, p, body, want) => {
    const r = await fetch(sim.base + p, { method, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    assert.equal(r.status, want, `${p}: ${await r.text()}`);
  };
  await simCall('POST', '/_sim/providers', { iysCode: IYS_BRAND, name: 'İYSli Kırtasiye A.Ş.',
    username: 'iysli', password: 'iysli-parola', brands: [{ brandCode: IYS_BRAND, name: 'İYSli' }] }, 201);
  await simCall('PUT', `/_sim/via/subscriptions/${IYS_BRAND}`, { credit: 100, status: 'ACTIVE' }, 200);
  await simCall('POST', '/_sim/otp/templates', { iysCode: IYS_BRAND, templateId: 'izin-sayfa',
    channel: 'SMS', method: 'OTP', text: 'İYSli Kırtasiye izin doğrulama kodunuz: {{otp}}' }, 201);
  izin('account', 'add', '--name', 'iysli', '--iys-code', String(IYS_BRAND), '--iys-url', sim.base,
    '--iys-user', 'iysli', '--iys-password', 'iysli-parola');
  izin('brand', 'add', '--account', 'iysli', '--code', String(IYS_BRAND), '--name', 'İYSli Kırtasiye',
    '--slug', 'iysli');
  izin('brand', 'set', '--code', String(IYS_BRAND), '--page-mode', 'IYS', '--page-otp-template',
    'izin-sayfa', '--page-vkn', '1234567890');
  srv.iysKey = izin('key', 'add', '--account', 'iysli').trim();
  Object.assign(srv, await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', dir,
    '--page-code-ttl', String(TTL)], dir));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  await stopIzin(srv);
  await stopIzin(sim);
});

test('at 360 px without JavaScript: give consent for MESAJ and ARAMA', async () => {
  const v = await openContext(browser, 360, 740, false);
  const phone = newPhone();
  await askCode(v, phone, { types: ['MESAJ', 'ARAMA'], name: 'cp-onay' });
  await enterCode(v, await codeFor(phone), 'cp-onay-3-kaydedildi');
  await v.page.getByRole('heading', { name: 'Tercihiniz kaydedildi' }).waitFor();
  await v.page.getByText('izniniz kaydedildi: SMS (kısa mesaj), Telefon araması').waitFor();
  for (const t of ['MESAJ', 'ARAMA']) {
    const c = await consent(phone, t);
    assert.equal(c.status, 200);
    assert.equal(c.body.status, 'ONAY');
    assert.equal(c.body.source, 'HS_WEB');
    assert.equal(c.body.origin, 'URL');
    assert.match(c.body.history[0].evidence.userAgent, /Chrome/);
  }
  // Keyboard: the first Tab reaches the skip link.
  await v.page.goto(`${srv.base}/c/ornek`);
  await v.page.keyboard.press('Tab');
  const box = await v.page.getByRole('link', { name: 'İçeriğe geç' }).boundingBox();
  assert.ok(box && box.y >= 0, 'the focused skip link is on screen');
  await v.context.close();
});

test('at 1280 px: the whole flow on a desktop, every page looked at', async () => {
  const v = await openContext(browser, 1280, 800, false);
  const phone = newPhone();
  await askCode(v, phone, { types: ['MESAJ'], name: 'cp-masaustu' });
  await enterCode(v, '000000', 'cp-masaustu-3-yanlis', 422);
  await enterCode(v, await codeFor(phone), 'cp-masaustu-4-kaydedildi');
  await v.page.getByRole('heading', { name: 'Tercihiniz kaydedildi' }).waitFor();
  assert.equal((await consent(phone, 'MESAJ')).body.status, 'ONAY');
  await v.context.close();
});

test('at 360 px: withdraw consent given before', async () => {
  const phone = newPhone();
  const r = await fetch(`${srv.base}/v1/brands/${BRAND}/consents`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${srv.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ recipient: phone, type: 'MESAJ', status: 'ONAY', source: 'HS_WEB',
      consentDate: new Date(Date.now() + 3 * 3600e3 - 60e3).toISOString().slice(0, 19).replace('T', ' ') }),
  });
  assert.equal(r.status, 201, await r.text());
  const v = await openContext(browser, 360, 740, false);
  await askCode(v, phone, { types: ['MESAJ'], ret: true, name: 'cp-ret' });
  await enterCode(v, await codeFor(phone), 'cp-ret-3-geri-alindi');
  await v.page.getByText('izniniz geri alındı: SMS (kısa mesaj)').waitFor();
  assert.equal((await consent(phone, 'MESAJ')).body.status, 'RET');
  await v.context.close();
});

test('at 360 px: five wrong codes void the code', async () => {
  const v = await openContext(browser, 360, 740, false);
  const phone = newPhone();
  await askCode(v, phone, { name: 'cp-yanlis' });
  const code = await codeFor(phone);
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  for (let left = 4; left >= 1; left--) {
    await enterCode(v, wrong, `cp-yanlis-3-kalan-${left}`, 422);
    await v.page.getByRole('alert').getByText(`Kod yanlış. ${left} deneme hakkınız kaldı.`).waitFor();
  }
  await enterCode(v, wrong, 'cp-yanlis-4-gecersiz', 422);
  await v.page.getByRole('alert').getByText(/5 kez yanlış girildi/).waitFor();
  assert.equal((await consent(phone, 'MESAJ')).status, 404);
  await v.context.close();
});

test('at 360 px: an expired code is refused', async () => {
  const v = await openContext(browser, 360, 740, false);
  const phone = newPhone();
  await askCode(v, phone, { name: 'cp-sure' });
  const code = await codeFor(phone);
  await sleep((TTL + 1) * 1000);
  await enterCode(v, code, 'cp-sure-3-doldu', 410);
  await v.page.getByRole('alert').getByText(/Kodun süresi dolmuş/).waitFor();
  assert.equal((await consent(phone, 'MESAJ')).status, 404);
  await v.context.close();
});

test('at 360 px: the İYS-verified flow against the emulator', async () => {
  const v = await openContext(browser, 360, 740, false);
  const phone = newPhone();
  await askCode(v, phone, { types: ['MESAJ', 'ARAMA'], name: 'cp-iys', slug: 'iysli',
    sent: /numarasına 6 haneli bir kod gönderdi\./ });
  await v.page.getByText('Kodu İleti Yönetim Sistemi (İYS) gönderdi ve doğrular.').waitFor();
  const otp = await (await fetch(`${sim.base}/_sim/otp?recipient=${encodeURIComponent(phone)}`)).json();
  assert.match(otp.messages[0].text, /^İYSli Kırtasiye izin doğrulama kodunuz: \d{6}/);
  await enterCode(v, otp.code, 'cp-iys-3-kaydedildi');
  await v.page.getByText('izniniz kaydedildi: SMS (kısa mesaj), Telefon araması').waitFor();
  for (const t of ['MESAJ', 'ARAMA']) {
    const r = await fetch(`${srv.base}/v1/brands/${IYS_BRAND}/consents/${encodeURIComponent(phone)}?type=${t}`,
      { headers: { Authorization: `Bearer ${srv.iysKey}` } });
    assert.equal(r.status, 200);
    const c = await r.json();
    assert.equal(c.status, 'ONAY');
    assert.equal(c.history[0].evidence.method, 'IYS_SMS_OTP');
    assert.equal(c.history[0].evidence.iysRequestId, otp.messages[0].requestId);
  }
  await v.context.close();
});

test('at 320 px and 1280 px: the layout holds, the QR code shows', async () => {
  for (const [w, h] of [[320, 640], [1280, 800]]) {
    const v = await openContext(browser, w, h, true);
    await checkPage(v, await v.page.goto(`${srv.base}/c/ornek`), 'cp-layout');
    await controlsVisible(v, `cp-layout-${w}`);
    const wide = await v.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, `horizontal scroll at ${w} px`);
    const qr = await v.page.locator('img.qr').evaluate((img) => img.complete && img.naturalWidth > 0);
    assert.ok(qr, 'the QR code image loaded');
    await v.context.close();
  }
});
