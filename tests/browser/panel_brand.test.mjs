// The panel's voice campaigns, SMS numbers and keywords, and consent page
// settings (issue 14 item 2) in a real browser: Debian's Chromium driven
// by playwright-core, JavaScript off (the panel carries none). Log in;
// make a voice campaign from a pasted list and download the dialer's CSV;
// change the keywords, numbers, replies and sender identity, see a refusal
// and the latest inbound SMS; see the consent page's link and QR code
// (loaded under the kit's CSP), change its address and text and follow the
// link. Every page: its status, the kit's CSP, no console error, nothing
// wider than the window; screenshots at 360 and 1280 px into build/browser/.
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
const TOKEN = 'gw-token-0123456789abcdef';
let srv; // { proc, base, dir, key }
let browser;

function izin(args, input) {
  return execFileSync(IZIN, [...args, '--data', srv.dir], { encoding: 'utf8', input });
}

async function api(method, p, body, headers = {}) {
  const r = await fetch(srv.base + p, {
    method, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${await r.text()}`);
  return r;
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  srv = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'izin-panelbrand-')) };
  izin(['init']);
  izin(['account', 'add', '--name', 'Örnek Ticaret', '--iys-code', String(BRAND)]);
  izin(['brand', 'add', '--account', 'Örnek Ticaret', '--code', String(BRAND), '--name', 'Örnek Çiçekçilik',
    '--keyword', 'CICEK', '--short-number', '4607', '--slug', 'ornek-cicek']);
  srv.key = izin(['key', 'add', '--account', 'Örnek Ticaret']).trim();
  izin(['user', 'add', '--account', 'Örnek Ticaret', '--email', 'ayse@ornek.com.tr', '--password-stdin'], PASSWORD + '\n');
  Object.assign(srv, await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir,
    '--gateway-token', TOKEN], srv.dir));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (srv && srv.proc) srv.proc.kill('SIGTERM');
});

function login(v) {
  return panelLogin(v, srv.base, 'ayse@ornek.com.tr', PASSWORD, 'marka-giris');
}

for (const width of [360, 1280]) {
  test(`voice, numbers and consent page at ${width} px`, async () => {
    const phone = (i) => `0536${String(width).padStart(4, '0')}${String(i).padStart(3, '0')}`;
    // one number may be called, one withdrew, one never consented
    for (const [i, status] of [[1, 'ONAY'], [2, 'RET']]) {
      await api('POST', `/v1/brands/${BRAND}/consents`, {
        recipient: phone(i), type: 'ARAMA', status, source: 'HS_WEB', consentDate: '2026-01-05 10:00:00',
      }, { Authorization: `Bearer ${srv.key}` });
    }
    const v = await openContext(browser, width, width < 600 ? 740 : 900, false);
    const { page } = v;
    await login(v);
    const nav = page.getByRole('navigation', { name: 'Panel' });

    // voice campaign: made from a pasted list, its page, the dialer's CSV
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Sesli kampanyalar' })), 'sesli');
    await page.getByLabel('Kampanya adı').fill(`Bahar araması ${width}`);
    await page.getByLabel(/Aranacak numaralar/).fill(`${phone(1)}\n${phone(2)}\n${phone(3)}\nnumara-değil`);
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kampanyayı oluştur' })), 'sesli-kampanya');
    assert.match(new URL(page.url()).pathname, /^\/panel\/voice\/\d+$/);
    assert.equal(await page.locator('#allowed').textContent(), '1');
    assert.equal(await page.locator('#blocked').textContent(), '3');
    await page.getByRole('cell', { name: 'İzin geri alınmış (ret)' }).waitFor();
    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: /Aranabilir numaraları indir/ }).click()]);
    assert.equal(fs.readFileSync(await dl.path(), 'utf8'), `recipient\n+90${phone(1).slice(1)}\n`);
    await checkPage(v, await clickAndWait(v, page.getByRole('link', { name: 'Sesli kampanyalara dön' })), 'sesli-liste');
    await page.getByRole('link', { name: `Bahar araması ${width}` }).waitFor();

    // numbers and keywords: an inbound SMS shows with its outcome
    await api('POST', '/v1/sms/inbound', { id: `tb-${width}`, from: phone(4), to: '4607', text: 'RET CICEK' },
      { 'X-Izin-Token': TOKEN });
    const numbersLink = nav.getByRole('link', { name: 'SMS numaraları ve anahtar kelimeler' });
    await checkPage(v, await clickAndWait(v, numbersLink), 'numaralar');
    await page.locator('#inbound').getByRole('cell', { name: 'RET CICEK' }).first().waitFor();
    await page.getByLabel(/Anahtar kelimeler/).fill('CICEK\nÇİÇEKÇİ');
    await page.getByLabel('Kısa numara (4 hane)').fill('46071');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kaydet' })), 'numaralar-ret', 422);
    await page.getByRole('alert').getByText(/Kısa numara \(IZ422\)/).waitFor();
    await page.getByLabel('Kısa numara (4 hane)').fill('4607');
    await page.getByLabel('Ticari unvan').fill('Örnek Ticaret A.Ş.');
    await page.getByLabel('MERSİS numarası (16 hane)').fill('0123456789012345');
    await page.getByLabel(/İletişim bilgisi/).fill('0212 555 01 23');
    await page.getByLabel('RET yanıtı').fill('{brand}: izniniz kaldırıldı.');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kaydet' })), 'numaralar-kayit');
    await page.getByRole('status').getByText('Ayarlar kaydedildi.').waitFor();
    assert.equal(await page.getByLabel(/Anahtar kelimeler/).inputValue(), 'CICEK\nÇİÇEKÇİ\n');

    // the consent page: its link and QR code (an image of this origin)
    const qr = [];
    page.on('response', (r) => { if (r.url().endsWith('/qr.svg')) qr.push(r); });
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'İzin sayfası' })), 'izin-sayfasi');
    assert.match(await page.locator('#link').textContent(), new RegExp(`^${srv.base}/c/ornek-(cicek|360)$`));
    assert.ok(qr.length === 1 && qr[0].status() === 200, 'the QR code loads');
    assert.match(qr[0].headers()['content-type'], /^image\/svg\+xml/);
    const slug = `ornek-${width}`;
    await page.getByLabel(/Sayfa adresi/).fill(slug);
    await page.getByLabel('Aydınlatma metni (KVKK)').fill('Örnek Çiçekçilik olarak kişisel verilerinizi\nKVKK kapsamında işleriz.');
    await page.getByLabel('Numaranın doğrulanması').selectOption('IYS');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kaydet' })), 'izin-sayfasi-ret', 422);
    await page.getByRole('alert').getByText(/pageOtpTemplate/).waitFor();
    await page.getByLabel('Numaranın doğrulanması').selectOption('LOCAL');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kaydet' })), 'izin-sayfasi-kayit');
    assert.equal(await page.locator('#link').textContent(), `${srv.base}/c/${slug}`);
    await checkPage(v, await clickAndWait(v, page.locator('#link')), 'izin-sayfasi-acik');
    await page.getByText('KVKK kapsamında işleriz.').waitFor();
    await v.context.close();
  });
}
