// The panel's operations pages (issue 14 item 2) in a real browser:
// Debian's Chromium driven by playwright-core, JavaScript off (the panel
// carries none). Log in; upload a CSV file and watch its job page refresh
// itself to DONE, then download errors.csv with the rejected line; run a
// send check; preview an informational text that reads as commercial (the
// IZ4223 warning) and a commercial one (the footer), send it and see the
// send's page. Every page: its status, the kit's CSP, no console error,
// nothing wider than the window; screenshots at 360 and 1280 px into
// build/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, checkPage, clickAndWait, openContext, panelLogin, startIzin } from './kit.mjs';

const BRAND = 700001;
const PASSWORD = 'Güçlü-parola-2026';
const WARN_TEXT = 'Bayramınız kutlu olsun! Tüm ürünlerde %20 indirim';
let srv; // { proc, base, dir, key }
let browser;

function izin(args, input) {
  return execFileSync(IZIN, [...args, '--data', srv.dir], { encoding: 'utf8', input });
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  srv = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'izin-panelops-')) };
  izin(['init']);
  izin(['account', 'add', '--name', 'Örnek Ticaret', '--iys-code', String(BRAND)]);
  izin(['brand', 'add', '--account', 'Örnek Ticaret', '--code', String(BRAND), '--name', 'Örnek Çiçekçilik',
    '--keyword', 'CICEK', '--short-number', '4607', '--trade-name', 'Örnek Ticaret A.Ş.',
    '--mersis', '0123456789012345', '--contact', '0212 555 01 23']);
  srv.key = izin(['key', 'add', '--account', 'Örnek Ticaret']).trim();
  izin(['user', 'add', '--account', 'Örnek Ticaret', '--email', 'ayse@ornek.com.tr', '--password-stdin'], PASSWORD + '\n');
  Object.assign(srv, await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir], srv.dir));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (srv && srv.proc) srv.proc.kill('SIGTERM');
});

function login(v) {
  return panelLogin(v, srv.base, 'ayse@ornek.com.tr', PASSWORD, 'ops-giris');
}

function csvFile(width) {
  const file = path.join(srv.dir, `izinler-${width}.csv`);
  const rows = ['alıcı,tip,durum,kaynak,tarih'];
  for (let i = 0; i < 30; i++) rows.push(`0535${String(width).padStart(4, "0")}${String(i).padStart(3, '0')},MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00`);
  rows.push('bu-bir-numara-değil,MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

for (const width of [360, 1280]) {
  test(`operations pages at ${width} px`, async () => {
    const v = await openContext(browser, width, width < 600 ? 740 : 900, false);
    const { page } = v;
    await login(v);
    const nav = page.getByRole('navigation', { name: 'Panel' });

    // bulk upload: the job page refreshes itself until DONE
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Toplu yükleme' })), 'toplu');
    await page.locator('#file').setInputFiles(csvFile(width));
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Yükle' })), 'toplu-is');
    assert.match(new URL(page.url()).pathname, /^\/panel\/bulk\/[0-9a-f]{32}$/);
    await page.getByRole('heading', { name: 'Yükleme: Tamamlandı' }).waitFor({ timeout: 30000 });
    await page.waitForLoadState('load');
    assert.equal(await page.locator('#accepted').textContent(), '30');
    assert.equal(await page.locator('#rejected').textContent(), '1');
    await checkPage(v, await page.reload(), 'toplu-bitti');
    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: /errors\.csv/ }).click()]);
    const errors = fs.readFileSync(await dl.path(), 'utf8');
    assert.match(errors, /^line,code,message,raw\n/);
    assert.match(errors, /bu-bir-numara-değil/);
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Toplu yükleme' })), 'toplu-liste');
    await page.getByRole('cell', { name: 'Tamamlandı' }).first().waitFor();

    // send check: one allowed (just uploaded), one without consent, one invalid
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Gönderim kontrolü' })), 'kontrol');
    await page.getByLabel(/Numaralar ya da e-posta/).fill(`0535${String(width).padStart(4, "0")}000\n05359999999\nabc`);
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kontrol et' })), 'kontrol-sonuc');
    assert.equal(await page.locator('#allowed').textContent(), '1');
    assert.equal(await page.locator('#blocked').textContent(), '2');
    const [blocked] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: 'blocked.csv indir' }).click()]);
    assert.equal(fs.readFileSync(await blocked.path(), 'utf8'),
      'recipient,reason\n+905359999999,NO_CONSENT\nabc,INVALID\n');

    // SMS campaign: an informational text that reads as commercial warns
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'SMS kampanyası' })), 'sms');
    await page.getByLabel('Gönderen başlığı').fill('CICEK');
    await page.getByLabel('Mesaj metni').fill(WARN_TEXT);
    await page.getByLabel('İleti türü').selectOption('0');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Önizle' })), 'sms-uyari');
    await page.locator('#warning').getByText('IZ4223').waitFor();
    assert.match(await page.locator('#warning').textContent(), /indirim/);
    // commercial: the footer; then sent to the uploaded numbers
    await page.getByLabel('İleti türü').selectOption('1');
    await page.getByLabel('Mesaj metni').fill('Yeni sezon çiçekleri geldi.');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Önizle' })), 'sms-onizleme');
    assert.match(await page.locator('#preview').textContent(), /MERSİS: 0123456789012345.*RET CICEK.*4607/);
    await page.getByLabel('Alıcılar (her satıra bir numara)').fill(`0535${String(width).padStart(4, "0")}001\n0535${String(width).padStart(4, "0")}002\n05359999999`);
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Gönder' })), 'sms-gonderim');
    assert.match(new URL(page.url()).pathname, /^\/panel\/sms\/\d+$/);
    assert.equal(await page.locator('#n-NO_CONSENT').textContent(), '1');
    await v.context.close();
  });
}
