// The emulator's Turkish pages in a real browser: Debian's Chromium driven by
// playwright-core. It starts `izin iys-sim` on a loopback port with a fresh
// data directory, sets up a provider with two brands and a person's consents
// through the emulator's JSON side, then, as a person would, at 360 px (a
// phone, with JavaScript turned off: the forms must work without it) and at
// 1280 px: looks a number up, withdraws and gives consent by clicking, files
// a complaint and reads the authority's list. Every page must load with no
// CSP violation and no console error, and stay within the window's width. A
// forged POST (no CSRF token, and another site's form) must be refused.
// Screenshots go to build/browser/ (IZIN_SCREENSHOTS overrides) for a person
// to look at. A third pass at 320 px checks only that nothing overflows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, checkPage, clickAndWait, openContext as open, startIzin } from './kit.mjs';

const openContext = (width, height, js) => open(browser, width, height, js);

const IYS_CODE = 770001;
const BRAND_A = 770001; // as in İYS's sandbox: the main brand's code is the iysCode
const BRAND_B = 770002;
const BRAND_A_NAME = 'Örnek Marka';
const BRAND_B_NAME = 'Çok Uzun Adlı Örnek Perakende ve Dağıtım Hizmetleri Markası';
const PHONE = '+905340000001';
const PHONE_TYPED = '0534 000 00 01';

let sim; // { proc, base, dir }
let browser;

/** Start `izin iys-sim` and wait for the port it reports and /healthz. */
async function startSim() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'izin-browser-'));
  const { proc, base } = await startIzin(['iys-sim', '--listen', '127.0.0.1:0', '--data', dir,
    '--pull-lag', '0', '--bulk-delay', '0', '--rate', '0', '--token-limit', '0'], dir);
  return { proc, base, dir };
}

async function postJson(p, body) {
  const r = await fetch(sim.base + p, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.status === 201, `${p}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** The person's records as the emulator's JSON side reports them. */
async function records() {
  const r = await fetch(`${sim.base}/_sim/citizen/consents?recipient=${encodeURIComponent(PHONE)}`);
  assert.equal(r.status, 200);
  return (await r.json()).list;
}

function record(list, brand) {
  const rec = list.find((x) => x.brandCode === brand);
  assert.ok(rec, `no record of brand ${brand}`);
  return rec;
}

/** Now minus `ago` seconds in Turkish time (UTC+3), as a datetime-local
 * input takes it: YYYY-MM-DDTHH:MM:SS. */
function trLocal(ago) {
  // Chromium writes a datetime-local value without ":00" seconds, and
  // playwright's fill() insists on reading back what it wrote: leave the
  // seconds out when they are zero.
  const v = new Date(Date.now() + 3 * 3600e3 - ago * 1000).toISOString().slice(0, 19);
  return v.endsWith(':00') ? v.slice(0, 16) : v;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  sim = await startSim();
  await postJson('/_sim/providers', {
    iysCode: IYS_CODE, name: 'Örnek Mağazacılık A.Ş.', username: 'ornek770001',
    password: 'parola-770001',
    brands: [{ brandCode: BRAND_A, name: BRAND_A_NAME }, { brandCode: BRAND_B, name: BRAND_B_NAME }],
  });
  for (const [brandCode, type] of [[BRAND_A, 'MESAJ'], [BRAND_B, 'ARAMA']]) {
    await postJson('/_sim/citizen/consents', {
      iysCode: IYS_CODE, brandCode, recipient: PHONE, type, status: 'ONAY', source: 'IYS_MOBIL',
    });
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright starts Chromium with a new, empty --user-data-dir of its own.
    args: CHROMIUM_ARGS,
  });
  // The first withdrawal must fall in a later second than these ONAYs, or
  // İYS refuses it (H178: a consentDate not later than the stored one).
  await sleep(1100);
});

after(async () => {
  if (browser) await browser.close();
  if (sim) {
    sim.proc.kill('SIGTERM');
    await new Promise((r) => { sim.proc.once('exit', r); setTimeout(r, 5000); });
    fs.rmSync(sim.dir, { recursive: true, force: true });
  }
});

test('at 360 px without JavaScript: look up, withdraw, give, complain', async () => {
  const v = await openContext(360, 740, false);
  const { page } = v;
  await checkPage(v, await page.goto(sim.base + '/vatandas'), '01-vatandas');
  await page.getByLabel('Cep telefonu numaranız veya e-posta adresiniz').fill(PHONE_TYPED);
  await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'İzinlerimi göster' })),
    '02-kayitlar');
  await page.getByRole('heading', { name: `${PHONE} için kayıtlar` }).waitFor();
  const cardA = page.locator('div.card', { hasText: BRAND_A_NAME });
  await checkPage(v, await clickAndWait(v, cardA.getByRole('button', { name: 'İzni geri al (RET)' })),
    '03-geri-alindi');
  await page.getByText('İzniniz geri alındı').waitFor();
  let rec = record(await records(), BRAND_A);
  assert.equal(rec.status, 'RET');
  assert.equal(rec.source, 'IYS_WEB');
  await sleep(1100); // two changes of one record need distinct consentDate seconds (H178)
  await checkPage(v, await clickAndWait(v, cardA.getByRole('button', { name: 'İzin ver (ONAY)' })),
    '04-izin-verildi');
  await page.getByText('İzniniz kaydedildi').waitFor();
  assert.equal(record(await records(), BRAND_A).status, 'ONAY');

  // Keyboard: the first Tab reaches the skip link, shown with a focus ring.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'İçeriğe geç' });
  const box = await skip.boundingBox();
  assert.ok(box && box.y >= 0 && box.x >= 0, 'the focused skip link is on screen');
  await page.screenshot({ path: path.join(SHOTS, '360-05-klavye-odagi.png') });

  // A complaint about the long-named brand, from its card's link.
  const cardB = page.locator('div.card', { hasText: BRAND_B_NAME });
  await checkPage(v, await clickAndWait(v, cardB.getByRole('link', { name: /Şikâyet edin/ })),
    '06-sikayet-formu');
  assert.equal(await page.getByLabel('Firmanın İYS numarası').inputValue(), String(IYS_CODE));
  assert.equal(await page.getByLabel('Kanal').inputValue(), 'ARAMA');
  await page.getByLabel('İletinin geldiği tarih ve saat').fill(trLocal(600));
  await page.getByLabel('İletinin metni ve açıklamanız').fill('Dün akşam izinsiz bir kampanya araması geldi.');
  await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Şikâyeti gönder' })),
    '07-sikayet-alindi');
  await page.getByRole('heading', { name: 'Şikâyetiniz alındı' }).waitFor();
  const no = (await page.locator('.msg.ok b').textContent()).trim();
  assert.match(no, /^\d+$/);

  await checkPage(v, await page.goto(sim.base + '/yetkili/sikayetler'), '08-yetkili');
  await page.getByText(`Şikâyet no. ${no}`).waitFor();
  await v.context.close();
});

test('at 1280 px: the same pages, a forged POST refused', async () => {
  const v = await openContext(1280, 800, true);
  const { page } = v;
  const lookup = `${sim.base}/vatandas?alici=${encodeURIComponent(PHONE_TYPED)}`;
  await checkPage(v, await page.goto(lookup), '02-kayitlar');
  const cardB = page.locator('div.card', { hasText: BRAND_B_NAME });
  await checkPage(v, await clickAndWait(v, cardB.getByRole('button', { name: 'İzni geri al (RET)' })),
    '03-geri-alindi');
  assert.equal(record(await records(), BRAND_B).status, 'RET');
  await checkPage(v, await page.goto(`${sim.base}/vatandas/sikayet`), '06-sikayet-formu');
  // A refused form keeps what was typed and says why, in Turkish.
  await page.getByLabel('İletinin geldiği telefon numarası veya e-posta adresi').fill(PHONE_TYPED);
  await page.getByLabel('Firmanın İYS numarası').fill(String(IYS_CODE));
  await page.getByLabel('Marka kodu').fill('999');
  await page.getByLabel('İletinin geldiği tarih ve saat').fill(trLocal(60));
  await page.getByLabel('İletinin metni ve açıklamanız').fill('<b>kalın</b> değil');
  await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Şikâyeti gönder' })),
    '06b-sikayet-hatali', 404);
  await page.getByRole('alert').getByText('Marka bulunamadı.').waitFor();
  assert.equal(await page.getByLabel('İletinin metni ve açıklamanız').inputValue(), '<b>kalın</b> değil');
  await checkPage(v, await page.goto(`${sim.base}/yetkili/sikayetler`), '08-yetkili');

  // Forged: the browser's own cookie but no token in the form.
  const before = record(await records(), BRAND_A).status;
  const forged = await v.context.request.post(`${sim.base}/vatandas`, {
    form: { alici: PHONE, iysCode: String(IYS_CODE), brandCode: String(BRAND_A), type: 'MESAJ',
      recipientType: 'BIREYSEL', status: before === 'ONAY' ? 'RET' : 'ONAY' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /Güvenlik doğrulaması başarısız/);
  // Forged: another site's page that posts the form, with a token it made up.
  await page.goto('about:blank');
  await page.setContent(`<form method="post" action="${sim.base}/vatandas">
    <input type="hidden" name="alici" value="${PHONE}">
    <input type="hidden" name="iysCode" value="${IYS_CODE}">
    <input type="hidden" name="brandCode" value="${BRAND_A}">
    <input type="hidden" name="type" value="MESAJ">
    <input type="hidden" name="recipientType" value="BIREYSEL">
    <input type="hidden" name="status" value="${before === 'ONAY' ? 'RET' : 'ONAY'}">
    <input type="hidden" name="csrf" value="${'ab'.repeat(24)}">
    <button>Kazandınız!</button></form>`);
  await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kazandınız!' })),
    '09-sahte-istek-reddedildi', 403);
  await page.getByRole('heading', { name: 'İstek reddedildi' }).waitFor();
  assert.equal(record(await records(), BRAND_A).status, before, 'a forged POST changed nothing');

  // The watch itself can fail: a style attribute set on the page is
  // blocked by the CSP and reported.
  await page.goto(lookup);
  v.problems.length = 0;
  await page.evaluate(() => document.querySelector('h1').setAttribute('style', 'color:red'));
  for (let i = 0; i < 50 && v.problems.length === 0; i++) await sleep(20);
  assert.ok(v.problems.some((p) => /style-src|style/.test(p)), `no violation seen: ${v.problems}`);
  await v.context.close();
});

test('at 320 px, the narrowest phone: nothing wider than the screen', async () => {
  const v = await openContext(320, 640, true);
  const { page } = v;
  const q = `alici=${encodeURIComponent(PHONE)}&iysCode=${IYS_CODE}&brandCode=${BRAND_B}&type=ARAMA`;
  await checkPage(v, await page.goto(`${sim.base}/vatandas?alici=${encodeURIComponent(PHONE)}`),
    '02-kayitlar');
  await checkPage(v, await page.goto(`${sim.base}/vatandas/sikayet?${q}`), '06-sikayet-formu');
  await checkPage(v, await page.goto(`${sim.base}/yetkili/sikayetler`), '08-yetkili');
  // a long address with no break in it must wrap, not stick out
  const mail = 'cok.uzun.bir.eposta.adresi.ornegi.icin@ornek-alan-adi-uzun.com.tr';
  await checkPage(v, await page.goto(`${sim.base}/vatandas?alici=${encodeURIComponent(mail)}`),
    '10-uzun-eposta');
  await page.getByText('hiçbir marka size ticari ileti gönderemez').waitFor();
  await v.context.close();
});
