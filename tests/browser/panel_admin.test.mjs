// The panel's API keys and users pages (issue 14 item 2) in a real
// browser, JavaScript off: log in, create an API key and see it shown once
// (it opens the API; the list afterwards names it by its prefix only),
// revoke it through the confirmation step (the API refuses it at once),
// add a user and see the one-time password. Screenshots of each page at
// 360 and 1280 px into build/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, checkPage, clickAndWait, openContext, panelLogin, startIzin, stopIzin } from './kit.mjs';

const BRAND = 700001;
const PASSWORD = 'Güçlü-parola-2026';
let srv; // { proc, base, dir }
let browser;

function izin(args, input) {
  return execFileSync(IZIN, [...args, '--data', srv.dir], { encoding: 'utf8', input });
}

const brandGet = (key) => fetch(`${srv.base}/v1/brands/${BRAND}`, { headers: { Authorization: `Bearer ${key}` } });

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  srv = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'izin-panel-admin-')) };
  izin(['init']);
  izin(['account', 'add', '--name', 'Örnek Ticaret', '--iys-code', String(BRAND)]);
  izin(['brand', 'add', '--account', 'Örnek Ticaret', '--code', String(BRAND), '--name', 'Örnek Çiçekçilik']);
  izin(['key', 'add', '--account', 'Örnek Ticaret']);
  izin(['user', 'add', '--account', 'Örnek Ticaret', '--email', 'ayse@ornek.com.tr', '--password-stdin'], PASSWORD + '\n');
  Object.assign(srv, await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir], srv.dir));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  await stopIzin(srv);
});

for (const width of [360, 1280]) {
  test(`keys and users at ${width} px`, async () => {
    const v = await openContext(browser, width, width < 600 ? 740 : 900, false);
    const { page } = v;
    await panelLogin(v, srv.base, 'ayse@ornek.com.tr', PASSWORD, 'yonetim-panel');
    const nav = page.getByRole('navigation', { name: 'Panel' });
    // the keys page, a new key shown once
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'API anahtarları' })), 'anahtarlar');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Yeni anahtar oluştur' })), 'anahtar-yeni');
    await page.getByText('bir daha gösterilmeyecek').waitFor();
    const key = (await page.locator('#newkey').textContent()).trim();
    assert.match(key, /^izk_[0-9a-f]{48}$/);
    assert.equal((await brandGet(key)).status, 200);
    await checkPage(v, await clickAndWait(v, page.getByRole('link', { name: 'API anahtarlarına dön' })), 'anahtarlar-sonra');
    assert.ok(!(await page.content()).includes(key), 'the key is not shown again');
    const row = page.getByRole('row', { name: new RegExp(key.slice(0, 8)) });
    await checkPage(v, await clickAndWait(v, row.getByRole('button', { name: 'İptal et' })), 'anahtar-iptal-onay');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Evet, anahtarı iptal et' })), 'anahtar-iptal');
    assert.equal((await brandGet(key)).status, 401);
    await page.getByRole('row', { name: new RegExp(key.slice(0, 8)) }).getByText('İptal edildi').waitFor();
    // the users page, a user added with a one-time password
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Kullanıcılar' })), 'kullanicilar');
    await page.getByLabel('Yeni kullanıcının e-posta adresi').fill(`kisi${width}@ornek.com.tr`);
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kullanıcı ekle' })), 'kullanici-yeni');
    assert.ok((await page.locator('#newpw').textContent()).trim().length >= 12);
    await checkPage(v, await clickAndWait(v, page.getByRole('link', { name: 'Kullanıcılara dön' })), 'kullanicilar-sonra');
    await page.getByRole('row', { name: new RegExp(`kisi${width}@`) }).getByText('Değiştirmesi bekleniyor').waitFor();
    await v.context.close();
  });
}
