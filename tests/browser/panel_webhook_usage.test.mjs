// The panel's Webhook and Kullanım ve plan pages (issue 14 item 2) in a
// real browser, JavaScript off: set the brand's webhook to a loopback
// receiver that answers 500, see the batch become a dead letter, send it
// again with "Yeniden gönder" once the receiver answers 200 and see it
// delivered; the removal's confirmation step; the usage page with a tiny
// plan at 80% (360 px) and at its limit (1280 px). Screenshots of each page
// at 360 and 1280 px into build/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, checkPage, clickAndWait, openContext, panelLogin, startIzin, stopIzin } from './kit.mjs';

const BRAND = 700001;
const PASSWORD = 'Güçlü-parola-2026';
const SECRET = 'tarayici-gizli-0123456789';
const PLANS = 'mini | Mini | 5 | 1500\nbuyuk | Büyük | 25.000 | 3500\nozel | Kurumsal | - | -\n';
let srv; // { proc, base, dir }
let browser;
let key;
const receiver = { status: 500, got: [] };
let recv;

function izin(args, input) {
  return execFileSync(IZIN, [...args, '--data', srv.dir], { encoding: 'utf8', input });
}

const api = (p, init = {}) => fetch(`${srv.base}/v1/brands/${BRAND}${p}`,
  { ...init, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' } });

let phone = 5320000000 + Math.floor(Math.random() * 100000) * 10;
async function consent() {
  phone += 1;
  const d = new Date(Date.now() + 3 * 3600e3 - 3600e3).toISOString().slice(0, 19).replace('T', ' ');
  const r = await api('/consents', {
    method: 'POST',
    body: JSON.stringify({ recipient: `+90${phone}`, type: 'MESAJ', status: 'ONAY', source: 'HS_WEB', consentDate: d }),
  });
  assert.equal(r.status, 201, await r.text());
}

async function waitFor(fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const deadLetters = async () => (await (await api('/webhook/dead-letters')).json()).list;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  srv = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'izin-panel-webhook-')) };
  const plans = path.join(srv.dir, 'plans.conf');
  fs.writeFileSync(plans, PLANS);
  izin(['init']);
  izin(['account', 'add', '--name', 'Örnek Ticaret', '--iys-code', String(BRAND), '--plan', 'mini', '--plans', plans]);
  izin(['brand', 'add', '--account', 'Örnek Ticaret', '--code', String(BRAND), '--name', 'Örnek Çiçekçilik']);
  key = izin(['key', 'add', '--account', 'Örnek Ticaret']).trim();
  izin(['user', 'add', '--account', 'Örnek Ticaret', '--email', 'ayse@ornek.com.tr', '--password-stdin'], PASSWORD + '\n');
  recv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      receiver.got.push({ status: receiver.status, body: JSON.parse(body) });
      res.writeHead(receiver.status, { 'Content-Length': 0 }).end();
    });
  });
  await new Promise((r) => recv.listen(0, '127.0.0.1', r));
  Object.assign(srv, await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir, '--plans', plans,
    '--allow-private-webhooks', '--webhook-give-up', '2'], srv.dir));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  for (let i = 0; i < 3; i++) await consent();
});

after(async () => {
  if (browser) await browser.close();
  await stopIzin(srv);
  if (recv) recv.close();
});

for (const width of [360, 1280]) {
  test(`webhook and usage at ${width} px`, async () => {
    const v = await openContext(browser, width, width < 600 ? 740 : 900, false);
    const { page } = v;
    await panelLogin(v, srv.base, 'ayse@ornek.com.tr', PASSWORD);
    const nav = page.getByRole('navigation', { name: 'Panel' });
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Webhook' })), 'webhook');
    // a refused secret: the Turkish reason, the URL kept, the secret not
    const url = `http://127.0.0.1:${recv.address().port}/hook-${width}`;
    await page.getByLabel('Adres').fill(url);
    await page.getByLabel('Gizli anahtar').fill('bosluklu gizli anahtar 0123');
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kaydet' })), 'webhook-ret', 422);
    await page.getByText('boşluksuz, yazdırılabilir').waitFor();
    assert.equal(await page.getByLabel('Adres').inputValue(), url);
    assert.equal(await page.getByLabel('Gizli anahtar').inputValue(), '');
    await page.getByLabel('Gizli anahtar').fill(SECRET);
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: 'Kaydet' })), 'webhook-kayitli');
    await page.getByText(url).first().waitFor();
    assert.ok(!(await page.content()).includes(SECRET), 'the secret is never shown');
    // the receiver fails: the batch becomes a dead letter, shown on the page
    receiver.status = 500;
    await consent();
    const dead = await waitFor(async () => (await deadLetters())[0]);
    assert.ok(dead, 'no dead letter');
    await checkPage(v, await page.reload(), 'webhook-teslim-edilemeyen');
    const row = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'Yeniden gönder' }) });
    await row.getByText('HTTP 500').waitFor();
    // the receiver is back: "Yeniden gönder" delivers it
    receiver.status = 200;
    await checkPage(v, await clickAndWait(v, row.getByRole('button', { name: 'Yeniden gönder' })), 'webhook-yeniden');
    assert.ok(await waitFor(async () => (await deadLetters()).length === 0, 10000), 'not delivered');
    const ids = receiver.got.filter((g) => g.status === 200).flatMap((g) => g.body.list.map((c) => Number(c.id)));
    assert.ok(ids.includes(dead.firstChangeId), 'the dead letter reached the receiver');
    await checkPage(v, await page.reload(), 'webhook-teslim-edildi');
    await page.getByText('Teslim edilemeyen gönderim yok.').waitFor();
    // removal asks first; "Vazgeç" keeps it
    await checkPage(v, await clickAndWait(v, page.getByRole('button', { name: "Webhook'u kaldır" })), 'webhook-kaldir-onay');
    await page.getByRole('button', { name: "Evet, webhook'u kaldır" }).waitFor();
    await checkPage(v, await clickAndWait(v, page.getByRole('link', { name: 'Vazgeç' })), 'webhook-vazgec');
    assert.equal((await api('/webhook')).status, 200);
    // usage: 4 of 5 records at 360 px (80%), 5 of 5 at 1280 px (the limit)
    await checkPage(v, await clickAndWait(v, nav.getByRole('link', { name: 'Kullanım ve plan' })), 'kullanim');
    await page.getByText('1.800,00 TL').first().waitFor();
    await page.getByRole('cell', { name: 'Bizi arayın' }).waitFor();
    const warning = width === 360 ? "Planınızın %80'ini kullandınız" : 'Planınızın sınırına ulaştınız';
    await page.getByRole('alert').getByText(warning).waitFor();
    assert.equal(await page.locator('meter#share').getAttribute('max'), '5');
    await v.context.close();
  });
}
