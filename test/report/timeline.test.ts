// The HTML timeline: structure a reader relies on (lanes, hold spans, crash) and escaping of untrusted labels.

import assert from 'node:assert/strict';
import { renderTimeline, type TimelineEvent, type TimelineInput } from '../../report/timeline.js';
import { EV } from '../../lib/trace/recorder.js';

const count = (html: string, re: RegExp): number => (html.match(new RegExp(re.source, 'g')) ?? []).length;

function input(): TimelineInput {
  const raw: Array<[number, number, number, number, string]> = [
    [0, EV.ENTER, 3, 0, 'd0v0  enter pci_remove_device'],
    [0, EV.LOCK, 1, 0x100, 'd0v0  lock pcidevs_lock'],
    [1, EV.ENTER, 4, 0, 'd0v1  enter vpci_write <script>alert(1)</script>'],
    [1, EV.WAIT, 1, 0x100, 'd0v1  waits for pcidevs_lock'],
    [0, EV.UNLOCK, 1, 0x100, 'd0v0  unlock pcidevs_lock'],
    [1, EV.LOCK, 1, 0x100, 'd0v1  lock pcidevs_lock'],
    [1, EV.RLOCK, 2, 0x200, 'd0v1  read_lock d->pci_lock & "friends"'],
    [1, EV.CRASH, 1, 0, 'd0v1  CRASH null-deref'],
  ];
  const events: TimelineEvent[] = raw.map(([cpu, ev, a, b, label], i) => ({ seq: 100 + i, cpu, ev, a, b, label }));
  return {
    title: 'crash-path-1 under baseline', outcome: 'null-deref', verdict: 'forbidden', schedule: 'S1:2:a2b2a1b3',
    replayCommand: 'vpci-lab repro crash-path-1 --strategy baseline --schedule S1:2:a2b2a1b3',
    cpuNames: ['d0v0', 'd0v1'], lockClasses: ['heap', 'pcidevs_lock', 'd->pci_lock'], events,
    crash: { cpu: 1, where: 'vpci_write', message: 'pdev->vpci is NULL <b>' },
  };
}

describe('HTML timeline', () => {
  const html = renderTimeline(input());

  it('is a complete HTML document with no external resources', () => {
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<html[^>]*>[\s\S]*<head>[\s\S]*<\/head>[\s\S]*<body>[\s\S]*<\/body>\s*<\/html>\s*$/);
    assert.doesNotMatch(html, /\b(src|href)=/);
    assert.doesNotMatch(html, /@import|url\((?!#)/);
  });

  it('draws one lane per vCPU, named', () => {
    assert.equal(count(html, /<g class="lane"/), 2);
    assert.match(html, /class="lane-name"[^>]*>d0v0</);
    assert.match(html, /class="lane-name"[^>]*>d0v1</);
  });

  it('draws a hold span per acquisition, the unreleased read hold running to the end', () => {
    assert.equal(count(html, /<rect class="hold[ "]/), 3);
    assert.equal(count(html, /<rect class="hold read open"/), 1);
    const open = html.match(/<rect class="hold read open" x="([\d.]+)"[^>]* width="([\d.]+)"/);
    assert.ok(open);
    assert.equal(Number(open[1]) + Number(open[2]), 8 * 16, 'open span runs to the right edge');
    assert.equal(count(html, /<line class="wait"/), 1);
  });

  it('marks the crash in its lane and says where in a banner', () => {
    assert.equal(count(html, /class="crash-marker"/), 1);
    const lane1 = html.slice(html.indexOf('<g class="lane" data-cpu="1"'));
    assert.ok(lane1.includes('class="crash-marker"'));
    assert.match(html, /class="crash-banner"[^]*vpci_write[^]*pdev-&gt;vpci is NULL &lt;b&gt;/);
    assert.match(html, /class="outcome verdict-forbidden o-crash">null-deref</);
    assert.match(html, /<code>vpci-lab repro crash-path-1 --strategy baseline --schedule S1:2:a2b2a1b3<\/code>/);
  });

  it('escapes labels; the one script is the scroll-to-crash one the CSP admits by hash', () => {
    assert.equal((html.match(/<script/gi) ?? []).length, 1);
    assert.match(html, /<script>\(function \(\) \{\n  function show\(root\)/);
    assert.match(html, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.doesNotMatch(html, /<b>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /d-&gt;pci_lock &amp; &quot;friends&quot;/);
  });

  it('lists every event in a table', () => {
    assert.equal(count(html, /<tr[^>]*><td>\d+<\/td>/), 8);
    assert.equal(count(html, /<tr class="crash-row">/), 1);
  });

  it('places the crash at the last event of crash.cpu when there is no CRASH event', () => {
    const i = input();
    const h = renderTimeline({ ...i, events: i.events.filter((e) => e.ev !== EV.CRASH) });
    assert.match(h, /<g class="crash-marker">[^]*?<rect x="96"/);
  });

  it('renders an empty trace', () => {
    const h = renderTimeline({ ...input(), events: [], verdict: undefined, schedule: undefined, replayCommand: undefined });
    assert.match(h, /^<!DOCTYPE html>[\s\S]*<\/html>\s*$/);
    assert.equal(count(h, /<g class="lane"/), 2);
    assert.equal(count(h, /class="hold/), 0);
    assert.match(h, /no events recorded/);
    assert.match(h, /class="crash-banner"/);
  });
});
