// The API document's page (GET /docs) in a real browser: Debian's Chromium
// driven by playwright-core, at a phone's 360 px and a desktop's 1280 px,
// JavaScript off (the page has none). It must list every path and method
// of /openapi.json in its table of contents, each linking to the
// operation's own section, with the kit's CSP, no console error and
// nothing wider than the window; screenshots into build/browser/ (the top
// of the page and one operation's section: the whole page is some 80,000
// px tall on a phone, past what a full-page screenshot takes in time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, IZIN, SHOTS, openContext, startIzin, stopIzin } from './kit.mjs';

let srv; // { proc, base, dir }
let browser;
let doc;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'izin-docs-'));
  execFileSync(IZIN, ['init', '--data', dir]);
  srv = { dir, ...(await startIzin(['serve', '--listen', '127.0.0.1:0', '--data', dir], dir)) };
  const r = await fetch(srv.base + '/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  doc = await r.json();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  await stopIzin(srv);
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

for (const width of [360, 1280]) {
  test(`the API page lists every operation of /openapi.json at ${width} px`, async () => {
    const v = await openContext(browser, width, width < 600 ? 800 : 900, false);
    try {
      const resp = await v.page.goto(srv.base + '/docs');
      assert.equal(resp.status(), 200);
      assert.match(resp.headers()['content-type'], /^text\/html/);
      assert.match(resp.headers()['content-security-policy'],
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; /);
      await v.page.waitForLoadState('load');
      assert.deepEqual(v.problems, []);
      // nothing sticks out sideways: the document is as wide as the window
      assert.equal(await v.page.evaluate(() => document.documentElement.scrollWidth), width);
      await v.page.screenshot({ path: path.join(SHOTS, `${width}-docs.png`) });
      assert.equal(await v.page.locator('html').getAttribute('lang'), 'tr');
      await v.page.getByRole('heading', { name: 'İçindekiler' }).waitFor();
      assert.equal(await v.page.locator('script').count(), 0);
      const toc = v.page.locator('nav li a');
      const listed = await toc.evaluateAll((as) => as.map((a) => ({
        method: a.querySelector('.m').textContent, path: a.querySelector('code').textContent,
        href: a.getAttribute('href') })));
      let ops = 0;
      for (const [p, item] of Object.entries(doc.paths)) {
        for (const m of METHODS) {
          if (!item[m]) continue;
          ops++;
          const entry = listed.find((l) => l.method === m.toUpperCase() && l.path === p);
          assert.ok(entry, `${m.toUpperCase()} ${p} is not in the table of contents`);
          assert.equal(entry.href, `#op-${item[m].operationId}`);
          const section = v.page.locator(`section[id="op-${item[m].operationId}"]`);
          assert.equal(await section.count(), 1, `${m} ${p}: its section`);
          assert.equal((await section.locator('h3 code').textContent()), p);
          // every documented status has its heading in the section
          for (const status of Object.keys(item[m].responses)) {
            assert.ok(await section.locator('h5', { hasText: new RegExp(`^${status} · `) }).count(),
              `${m} ${p}: response ${status}`);
          }
        }
      }
      assert.equal(listed.length, ops);
      assert.ok(ops >= 30);
      // a schema link leads to its section
      assert.equal(await v.page.locator('section[id="schema-Errors"]').count(), 1);
      // a path's section, as the reader sees it after following the link
      await v.page.locator('a[href="#op-consent_add"]').first().click();
      await v.page.locator('section[id="op-consent_add"] details').first().evaluate((d) => { d.open = true; });
      await v.page.screenshot({ path: path.join(SHOTS, `${width}-docs-consent_add.png`) });
      assert.deepEqual(v.problems, []);
    } finally {
      await v.context.close();
    }
  });
}
