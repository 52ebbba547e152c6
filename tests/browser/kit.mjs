// What the browser tests share: a browser context that watches every page
// for CSP violations and console errors, the checks made after each page
// (status, the page kit's CSP, no problem, no sideways overflow, a
// screenshot), and a click that waits for the next page.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
export const IZIN = process.env.IZIN_BIN || path.join(root, 'build', 'rel', 'izin');
export const CHROMIUM = process.env.IZIN_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.IZIN_SCREENSHOTS || path.join(root, 'build', 'browser');

/** Chromium's flags for the tests (no network of its own, no sandbox in CI). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

/**
 * A browser context with a width, watching every page for CSP violations
 * (through the browser's console, and with JavaScript on also through the
 * securitypolicyviolation event) and console errors.
 */
export async function openContext(browser, width, height, javaScriptEnabled) {
  const context = await browser.newContext({
    viewport: { width, height }, javaScriptEnabled, locale: 'tr-TR',
  });
  const problems = [];
  if (javaScriptEnabled) {
    await context.exposeBinding('__izinCspViolation', (_src, what) => {
      problems.push(`CSP violation: ${what}`);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__izinCspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
      });
    });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page, problems, width };
}

/** Checks after each page: its status and the kit's CSP, no problem so
 * far, nothing wider than the window, and a screenshot. A page answered
 * with an error status is logged by Chromium itself as a failed load: that
 * one line is expected, nothing else. */
export async function checkPage(v, response, name, status = 200) {
  assert.ok(response, `${name}: no response`);
  assert.equal(response.status(), status, `${name}: HTTP ${response.status()}`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; /, name);
  await v.page.waitForLoadState('load');
  if (status >= 400) {
    const own = `console error: Failed to load resource: the server responded with a status of ${status}`;
    const i = v.problems.findIndex((p) => p.startsWith(own));
    if (i >= 0) v.problems.splice(i, 1);
  }
  assert.deepEqual(v.problems, [], `${name}: ${v.problems.join('\n')}`);
  // Layout overflow is measured without script: a full-page screenshot as
  // wide as the viewport means nothing stuck out sideways.
  const file = path.join(SHOTS, `${v.width}-${name}.png`);
  const png = await v.page.screenshot({ path: file, fullPage: true });
  assert.equal(png.readUInt32BE(16), v.width, `${name}: the page is wider than ${v.width} px`);
  return response;
}

export async function clickAndWait(v, locator) {
  const [response] = await Promise.all([v.page.waitForNavigation(), locator.click()]);
  return response;
}

/** Log in to the panel at base with email and password from its login page;
 * with name, the answer is checked (status) and its screenshot kept as
 * NAME. Returns the answer. */
export async function panelLogin(v, base, email, password, name, status = 200) {
  const { page } = v;
  await page.goto(`${base}/panel/login`);
  await page.getByLabel('E-posta adresi').fill(email);
  await page.getByLabel('Parola', { exact: true }).fill(password);
  const response = await clickAndWait(v, page.getByRole('button', { name: 'Giriş yap' }));
  return name ? checkPage(v, response, name, status) : response;
}


/** Start `izin ARGS` (a server listening on 127.0.0.1:0, its stderr into
 * DIR/stderr.log) and wait for the port it reports and /healthz: { proc, base }. */
export async function startIzin(args, dir) {
  const err = fs.openSync(path.join(dir, 'stderr.log'), 'w');
  const proc = spawn(IZIN, args, { stdio: ['ignore', 'pipe', err] });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`izin ${args[0]} did not report its port`)), 20000);
    proc.on('exit', (code) => reject(new Error(`izin ${args[0]} exited (${code}): ` +
      fs.readFileSync(path.join(dir, 'stderr.log'), 'utf8'))));
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = line.match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(base + '/healthz')).ok) return { proc, base };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`izin ${args[0]} did not become healthy`);
}

/** Stop a server startIzin started (SIGTERM, at most 5 s) and remove its
 * directory. */
export async function stopIzin(s) {
  if (s?.proc) {
    s.proc.kill('SIGTERM');
    await new Promise((r) => { s.proc.once('exit', r); setTimeout(r, 5000); });
  }
  if (s) fs.rmSync(s.dir, { recursive: true, force: true });
}
