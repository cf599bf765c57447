// The HTML report in a real browser (Debian's chromium, driven by puppeteer-core): the page loads with no console
// error and no request beyond the file itself, the outcome matrix is coloured by verdict, a failure's timeline
// draws its lanes, and the stress report draws lock distributions. Without chromium the test is skipped with the
// reason printed, except under CI (.ci/run installs chromium), where a missing browser is a failure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function findChromium(): string | undefined {
  const env = process.env.CHROMIUM_PATH ?? process.env.PUPPETEER_EXECUTABLE_PATH;
  if (env) return env;
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

interface Loaded { page: Page; errors: string[]; requests: string[] }

async function load(browser: Browser, file: string): Promise<Loaded> {
  const page = await browser.newPage();
  const errors: string[] = [], requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') errors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
  return { page, errors, requests };
}

describe('HTML report in a browser', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let dir = '';

  before(async function () {
    const exe = findChromium();
    if (!exe) {
      if (process.env.CI) throw new Error('chromium is not installed; .ci/run installs Debian\'s chromium package');
      console.log('      (skipped: no chromium on PATH; install Debian\'s chromium package or set CHROMIUM_PATH)');
      this.skip();
    }
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-report-'));
  });
  after(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('explore: the matrix coloured by verdict, a timeline with lanes, no console error, no request', async () => {
    const html = path.join(dir, 'explore.html');
    const r = spawnSync(process.execPath, [CLI, 'explore', '--scenarios', 'crash-path-1,crash-path-4', '--strategies', 'baseline,upstream', '--runs', '6', '--html', html], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const { page, errors, requests } = await load(browser!, html);
    const m = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('#matrix tr')].map((tr) => [...tr.children].map((c) => c.textContent!.trim()));
      const cell = document.querySelector('#matrix td.tone-expected .chip.expected') as HTMLElement | null;
      const tl = document.querySelector('details.failure[open] .timeline svg.lanes') as SVGSVGElement | null;
      const box = tl?.getBoundingClientRect();
      return {
        rows, cellBg: cell ? getComputedStyle(cell).backgroundColor : '',
        timeline: tl ? { w: box!.width, h: box!.height, lanes: tl.querySelectorAll('g.lane').length, holds: tl.querySelectorAll('rect.hold').length, crash: tl.querySelectorAll('.crash-marker').length } : null,
        linked: (document.querySelector('#matrix td a') as HTMLAnchorElement | null)?.getAttribute('href') ?? '',
      };
    });
    assert.deepEqual(m.rows[0], ['scenario', 'baseline', 'upstream']);
    assert.equal(m.rows.length, 3);
    assert.match(m.rows[1][1], /null-deref/);
    assert.equal(m.cellBg, 'rgb(220, 252, 231)', 'an expected outcome is green');
    assert.ok(m.timeline, 'an open failure has a timeline');
    assert.ok(m.timeline.w > 100 && m.timeline.h > 40, `timeline drawn (${m.timeline.w}x${m.timeline.h})`);
    assert.equal(m.timeline.lanes, 2);
    assert.ok(m.timeline.holds > 0 && m.timeline.crash === 1, 'lock holds and the crash drawn');
    assert.ok(await page.$(m.linked), 'the matrix cell links to its failure');
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [pathToFileURL(html).href], 'the page fetches nothing but itself');
  });

  it('stress: lock wait and hold distributions drawn from the histograms', async () => {
    const html = path.join(dir, 'stress.html');
    const r = spawnSync(process.execPath, [CLI, 'stress', '--strategy', 'baseline,pcidevs', '--trials', '3', '--html', html], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`report: ${html.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const { page, errors } = await load(browser!, html);
    const s = await page.evaluate(() => ({
      rows: document.querySelectorAll('#matrix tr').length,
      charts: [...document.querySelectorAll('#locks svg.dist')].map((svg) => ({ bars: svg.querySelectorAll('rect').length, w: svg.getBoundingClientRect().width })),
    }));
    assert.equal(s.rows, 3);
    assert.ok(s.charts.length > 0 && s.charts.every((c) => c.bars > 0 && c.w > 0), 'every distribution has bars');
    assert.deepEqual(errors, []);
  });
});
