// The HTML report in a real browser (Debian's chromium, driven by puppeteer-core): the page loads with no console
// error and no request beyond the file itself, colour says the outcome and a mark the verdict, a summary is on top,
// a failure's timeline draws its lanes and opens scrolled to its crash, and the stress report draws lock
// distributions. Without chromium the test is skipped with the
// reason printed, except under CI (.ci/run installs chromium), where a missing browser is a failure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

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
  // Screenshots stay for a person to look at (VPCI_SCREENSHOTS, else a temporary folder removed with the rest).
  let shots = '';

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
    shots = process.env.VPCI_SCREENSHOTS ?? dir;
    fs.mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('explore: colour is the outcome, the verdict a mark; a summary on top; a timeline with lanes; no console error, no request', async () => {
    const html = path.join(dir, 'explore.html');
    const r = spawnSync(process.execPath, [CLI, 'explore', '--scenarios', 'crash-path-1,crash-path-4,double-modify', '--strategies', 'baseline,upstream,pcidevs', '--runs', '6', '--html', html], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const { page, errors, requests } = await load(browser!, html);
    const m = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('#matrix tr')].map((tr) => [...tr.children].map((c) => c.textContent!.trim()));
      const bg = (sel: string): string => { const e = document.querySelector(sel) as HTMLElement | null; return e ? getComputedStyle(e).backgroundColor : ''; };
      const tl = document.querySelector('details.failure[open] .timeline svg.lanes') as SVGSVGElement | null;
      const box = tl?.getBoundingClientRect();
      const ids = [...document.querySelectorAll('pattern')].map((p) => p.id);
      return {
        rows, crashChip: bg('#matrix .chip.o-crash.v-expected'), cleanChip: bg('#matrix .chip.o-clean'), crashMark: (document.querySelector('#matrix .chip.o-crash .mark')?.textContent ?? ''),
        summary: document.querySelector('#summary')?.textContent ?? '', desc: document.querySelector('#matrix th .desc')?.textContent ?? '',
        nameWraps: [...document.querySelectorAll('#matrix th')].some((th) => getComputedStyle(th).whiteSpace !== 'nowrap'),
        prov: [...document.querySelectorAll('.failure .prov')].map((p) => p.textContent),
        ids, timeline: tl ? { w: box!.width, h: box!.height, lanes: tl.querySelectorAll('g.lane').length, holds: tl.querySelectorAll('rect.hold').length, crash: tl.querySelectorAll('.crash-marker').length } : null,
        linked: (document.querySelector('#matrix td a') as HTMLAnchorElement | null)?.getAttribute('href') ?? '',
      };
    });
    assert.deepEqual(m.rows[0], ['scenario', 'baseline', 'upstream', 'pcidevs']);
    assert.match(m.rows[1][1], /null-deref\+/);
    assert.equal(m.crashChip, 'rgb(254, 226, 226)', 'an expected crash is red, its verdict a mark');
    assert.equal(m.crashMark, '+');
    assert.equal(m.cleanChip, 'rgb(220, 252, 231)', 'a clean run is green');
    assert.match(m.summary, /No surprises/);
    assert.match(m.summary, /vpci-lab \d+\.\d+\.\d+.*report written \d{4}-\d\d-\d\d.*\d+ cores.*load/);
    assert.ok(m.desc.length > 10, 'the scenario\'s description is shown');
    assert.equal(m.nameWraps, false, 'names do not wrap');
    assert.ok(m.prov.some((p) => /known bug of late 2021: defer_map FIXME/.test(p ?? '')), `double-modify's stale mapping is a known bug: ${m.prov.join(' | ')}`);
    assert.equal(new Set(m.ids).size, m.ids.length, `SVG pattern ids unique: ${m.ids.join(' ')}`);
    assert.ok(m.timeline, 'an open failure has a timeline');
    assert.ok(m.timeline.w > 100 && m.timeline.h > 40, `timeline drawn (${m.timeline.w}x${m.timeline.h})`);
    assert.equal(m.timeline.lanes, 2);
    assert.ok(m.timeline.holds > 0 && m.timeline.crash === 1, 'lock holds and the crash drawn');
    assert.ok(await page.$(m.linked), 'the matrix cell links to its failure');
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [pathToFileURL(html).href], 'the page fetches nothing but itself');
    await page.screenshot({ path: path.join(shots, 'explore-top.png') });
  });

  it('verify: a use-after-free shows where the object was freed and where the preemption happened (screenshot)', async () => {
    const html = path.join(dir, 'verify.html');
    const r = spawnSync(process.execPath, [CLI, 'verify', 'stale-pdev', '--strategy', 'upstream', '--preemptions', '1', '--report', html, '--html', path.join(dir, 'vt.html')], { encoding: 'utf8', timeout: 120_000 });
    assert.notEqual(r.status, 2, r.stderr);
    const { page, errors } = await load(browser!, html);
    const v = await page.evaluate(() => {
      const d = document.querySelector('details.failure[open]')!;
      return { halves: d.querySelector('.halves')?.textContent ?? '', prov: d.querySelector('.prov')?.textContent ?? '', matrix: document.querySelector('#matrix')?.textContent ?? '' };
    });
    assert.match(v.halves, /freed on d0v0 at free_pdev:after-list_del \(event #\d+\), \d+ events before the bad access on d0v1 in vpci_process_pending/);
    assert.match(v.halves, /preempted: d0v1 after event #\d+ \(at vpci_process_pending:before-lock\), d0v0 ran/);
    assert.match(v.prov, /finding/);
    assert.match(v.matrix, /refuted: \d+ runs, \d+ states/, 'runs and states in words');
    assert.deepEqual(errors, []);
    await page.screenshot({ path: path.join(shots, 'verify-top.png') });
  });

  it('a long timeline opens scrolled to its crash, also when opened later (screenshot)', async () => {
    const html = path.join(dir, 'stress-scroll.html');
    const r = spawnSync(process.execPath, [CLI, 'stress', '--strategy', 'upstream,baseline', '--trials', '10', '--html', html], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const { page, errors } = await load(browser!, html);
    const inView = async (sel: string): Promise<{ scrolled: number; wide: boolean; inView: boolean }> => page.evaluate((q) => {
      const d = document.querySelector(q)!;
      d.scrollIntoView();
      const scroll = d.querySelector('.timeline .scroll') as HTMLElement;
      const c = (d.querySelector('.crash-marker') as SVGGElement).getBoundingClientRect(), s = scroll.getBoundingClientRect();
      return { scrolled: scroll.scrollLeft, wide: scroll.scrollWidth > scroll.clientWidth * 1.5, inView: c.left >= s.left && c.right <= s.right };
    }, sel);
    // The widest open trace: a finding keeps 400 events, a known bug of the generation a compact 60.
    const open = await page.$$eval('details.failure[open]', (ds) => ds.filter((d) => d.querySelector('.crash-marker'))
      .sort((a, b) => b.querySelector('.scroll')!.scrollWidth - a.querySelector('.scroll')!.scrollWidth).map((d) => `#${d.id}`));
    assert.ok(open.length > 0, 'an open failure with a crash');
    const first = await inView(open[0]);
    assert.ok(first.wide, 'the trace is much wider than its box (else scrolling proves nothing)');
    assert.ok(first.scrolled > 0 && first.inView, `the crash is in view on load (scrollLeft ${first.scrolled})`);
    await page.screenshot({ path: path.join(shots, 'stress-crash.png') });
    const closed = await page.$$eval('details.failure:not([open])', (ds) => ds.filter((d) => d.querySelector('.crash-marker')).map((d) => `#${d.id}`));
    if (closed.length) {
      await page.$eval(closed[0], (d) => { (d as HTMLDetailsElement).open = true; });
      await new Promise((res) => setTimeout(res, 100));
      const later = await inView(closed[0]);
      assert.ok(later.inView, 'a failure opened later scrolls to its crash too');
    }
    assert.deepEqual(errors, []);
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
