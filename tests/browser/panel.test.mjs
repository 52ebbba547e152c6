// The customer's panel (issue 14) in a real browser: Debian's Chromium
// driven by playwright-core, JavaScript off (the panel carries none). A
// store with one account and brand, two panel users (one with a generated
// one-time password), a few consents recorded through the API; then: a
// wrong password refused with the Turkish message, a login, the forced
// password change of a generated password, the dashboard's charts, a
// recipient search with the history and evidence. Every page: its status,
// the kit's CSP, no console error, nothing wider than the window;
// screenshots at 360 and 1280 px into build/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, checkPage, clickAndWait, openContext, startIzin } from './kit.mjs';

const BRAND = 700001;
const PASSWORD = 'Güçlü-parola-2026';
let srv; // { proc, base, dir, key, oneTime }
let browser;

function izin(args, input) {
  return execFileSync(IZIN, [...args, '--data', srv.dir], { encoding: 'utf8', input });
}

async function record(recipient, status, date) {
  const r = await fetch(`${srv.base}/v1/brands/${BRAND}/consents`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${srv.key}`, 'Content-Type': 'application/json',
      'User-Agent': 'Kasa-7 <b>1</b>' },
    body: JSON.stringify({ recipient, type: 'MESAJ', status, source: 'HS_FIZIKSEL_ORTAM', consentDate: date }),
  });
  assert.equal(r.status, 201, await r.text());
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  srv = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'izin-panel-')) };
  izin(['init']);
  izin(['account', 'add', '--name', 'Örnek Ticaret', '--iys-code', String(BRAND)]);
  izin(['brand', 'add', '--account', 'Örnek Ticaret', '--code', String(BRAND), '--name', 'Örnek Çiçekçilik']);
  srv.key = izin(['key', 'add', '--account', 'Örnek Ticaret']).trim();
  izin(['user', 'add', '--account', 'Örnek Ticaret', '--email', 'ayse@ornek.com.tr', '--password-stdin'], PASSWORD + '\n');
  srv.oneTime = izin(['user', 'add', '--account', 'Örnek Ticaret', '--email', 'yeni@ornek.com.tr']).trim();
  Object.assign(srv, await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir], srv.dir));
  await record('0532 123 45 67', 'ONAY', '2026-01-05 10:00:00');
  await record('0532 123 45 67', 'RET', '2026-01-07 12:30:00');
  for (let i = 0; i < 12; i++) await record(`0533 000 00 ${String(10 + i)}`, i % 4 ? 'ONAY' : 'RET', '2026-01-05 10:00:00');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (srv && srv.proc) srv.proc.kill('SIGTERM');
});

async function login(v, email, password, name, status) {
  const { page } = v;
  await checkPage(v, await page.goto(`${srv.base}/`), `${name}-giris`);
  assert.equal(new URL(page.url()).pathname, '/panel/login');
  await page.getByLabel('E-posta adresi').fill(email);
  await page.getByLabel('Parola', { exact: true }).fill(password);
  return checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Giriş yap' })), `${name}-giris-sonuc`, status);
}

for (const width of [360, 1280]) {
  test(`panel at ${width} px`, async () => {
    const v = await openContext(browser, width, width < 600 ? 740 : 900, false);
    const { page } = v;
    // a wrong password: the Turkish message, no session
    await login(v, 'ayse@ornek.com.tr', 'yanlış-parola-123', 'yanlis', 401);
    await page.getByText('Giriş yapılamadı: e-posta adresi ya da parola hatalı.').waitFor();
    // the right one: the dashboard
    await login(v, 'ayse@ornek.com.tr', PASSWORD, 'panel', 200);
    assert.equal(new URL(page.url()).pathname, '/panel');
    await page.getByRole('heading', { name: 'Gösterge paneli' }).waitFor();
    assert.ok(await page.locator('svg[role=img] title').count() >= 5, 'the charts');
    assert.equal(await page.getByRole('row', { name: /MESAJ ret/ }).locator('td').textContent(), '4');
    await page.getByRole('navigation', { name: 'Panel' }).getByText('API anahtarları').waitFor();
    // search a recipient written another way: history newest first, with evidence
    await checkPage(v, await clickAndWait(v, page.getByRole('link', { name: 'Alıcı ara' })), 'ara');
    await page.getByLabel('Telefon numarası ya da e-posta adresi').fill('(0532) 123-4567');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Ara' })), 'ara-sonuc');
    await page.getByText('şu an RET').waitFor();
    const rows = page.locator('section.card tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).textContent(), /RET/);
    assert.match(await rows.nth(1).textContent(), /ONAY/);
    assert.match(await rows.nth(0).locator('pre').textContent(), /Kasa-7 <b>1<\/b>/);
    // logout
    await clickAndWait(v, page.getByRole('button', { name: 'Çıkış' }));
    assert.equal(new URL(page.url()).pathname, '/panel/login');
    await v.context.close();
  });
}

test('a generated password must be changed first', async () => {
  const v = await openContext(browser, 360, 740, false);
  const { page } = v;
  await login(v, 'yeni@ornek.com.tr', srv.oneTime, 'ilk', 200);
  assert.equal(new URL(page.url()).pathname, '/panel/password');
  await page.getByText('tek kullanımlık parolayı').waitFor();
  await page.getByLabel('Şu anki parola').fill(srv.oneTime);
  await page.getByLabel('Yeni parola', { exact: true }).fill('Yepyeni-parolam-1');
  await page.getByLabel('Yeni parola (tekrar)').fill('Yepyeni-parolam-1');
  await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Parolayı değiştir' })), 'parola-degisti');
  assert.equal(new URL(page.url()).pathname, '/panel');
  await v.context.close();
});
