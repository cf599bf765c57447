// HTML timeline of one failing interleaving: a lane per vCPU, one column per event in global order, lock hold spans
// and waits as bars, the crash marked. Self-contained (inline CSS and SVG, no script) so the file can be attached
// to a bug report and opened anywhere. Every string from the input is escaped: labels are built from model state.

import { EV, type TimelineEvent } from '../lib/trace/recorder.js';
import { SCROLL_SCRIPT, scriptCsp } from './scroll-script.js';

export { SCROLL_SCRIPT, scriptCsp };

export type { TimelineEvent };
export interface TimelineInput {
  title: string;
  outcome: string;
  verdict?: string;
  schedule?: string;
  replayCommand?: string;
  cpuNames: string[];
  lockClasses: string[];
  events: TimelineEvent[];
  crash?: { cpu: number; where: string; message: string };
}

const COL = 16;                   // px per event; fixed so long traces scroll rather than squeeze
const AXIS = 20, LABEL_ROW = 14, MARK_Y = 24, HOLD_TOP = 34, SLOT = 7, BAR = 5, LANE_PAD = 6, NAME_W = 96;
const PALETTE = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#b45309', '#4f46e5', '#be123c'];
const KIND = ['?', 'site', 'lock', 'unlock', 'read_lock', 'read_unlock', 'trylock fail', 'wait', 'enter', 'ret', 'crash', 'done', 'note'];

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const colour = (cls: number): string => PALETTE[((cls % PALETTE.length) + PALETTE.length) % PALETTE.length] ?? '#666';
// SVG pattern ids are global to the page: each timeline's own prefix, or one timeline's hatching vanishes when
// another (with the same ids) is collapsed.
let idPrefix = 't0';
let timelines = 0;
const hatch = (cls: number): string => `url(#${idPrefix}-hatch-${cls | 0})`;
const cx = (i: number): number => i * COL + COL / 2;
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

interface Span { cpu: number; cls: number; addr: number; read: boolean; start: number; end: number; open: boolean; orphan: boolean; slot: number }
interface Wait { cpu: number; cls: number; start: number; end: number; open: boolean }

/** Pair acquisitions with releases and waits with acquisitions, per cpu and lock address. */
function pair(events: TimelineEvent[], lanes: number): { spans: Span[]; waits: Wait[] } {
  const spans: Span[] = [], waits: Wait[] = [];
  const held = new Map<string, Span[]>(), waiting = new Map<string, Wait>();
  const first = new Array<number>(lanes).fill(-1);
  const last = events.length - 1;
  events.forEach((e, i) => {
    if (first[e.cpu] === -1) first[e.cpu] = i;
    const read = e.ev === EV.RLOCK || e.ev === EV.RUNLOCK;
    const key = `${e.cpu}/${read ? 'r' : 'w'}/${e.b}`;
    if (e.ev === EV.WAIT) {
      const k = `${e.cpu}/${e.b}`;
      if (!waiting.has(k)) { const w = { cpu: e.cpu, cls: e.a, start: i, end: last, open: true }; waiting.set(k, w); waits.push(w); }
    } else if (e.ev === EV.LOCK || e.ev === EV.RLOCK) {
      const w = waiting.get(`${e.cpu}/${e.b}`);
      if (w) { w.end = i; w.open = false; waiting.delete(`${e.cpu}/${e.b}`); }
      const s: Span = { cpu: e.cpu, cls: e.a, addr: e.b, read, start: i, end: last, open: true, orphan: false, slot: 0 };
      spans.push(s);
      held.set(key, [...(held.get(key) ?? []), s]);
    } else if (e.ev === EV.UNLOCK || e.ev === EV.RUNLOCK) {
      const s = held.get(key)?.pop();
      if (s) { s.end = i; s.open = false; }
      // The flight recorder keeps only each thread's tail, so a release whose acquisition fell off the ring is
      // normal: show the lock as held from the first event we have for that cpu.
      else spans.push({ cpu: e.cpu, cls: e.a, addr: e.b, read, start: first[e.cpu], end: i, open: false, orphan: true, slot: 0 });
    }
  });
  // Nested holds stack downwards; greedy by start time uses the fewest rows.
  const ends: number[][] = Array.from({ length: lanes }, () => []);
  for (const s of [...spans].sort((x, y) => x.start - y.start || x.end - y.end)) {
    const rows = ends[s.cpu];
    let r = rows.findIndex((end) => end < s.start);
    if (r === -1) r = rows.length;
    rows[r] = s.end;
    s.slot = r;
  }
  return { spans, waits };
}

function mark(ev: number, x: number, y: number, cls: number): string {
  const c = colour(cls);
  switch (ev) {
    case EV.SITE: return `<circle cx="${x}" cy="${y}" r="2.5" fill="#9ca3af"/>`;
    case EV.LOCK: return `<rect x="${x - 3.5}" y="${y - 3.5}" width="7" height="7" fill="${c}"/>`;
    case EV.RLOCK: return `<rect x="${x - 3.5}" y="${y - 3.5}" width="7" height="7" fill="${hatch(cls)}" stroke="${c}"/>`;
    case EV.UNLOCK: case EV.RUNLOCK: return `<rect x="${x - 3}" y="${y - 3}" width="6" height="6" fill="#fff" stroke="${c}" stroke-width="1.5"/>`;
    case EV.TRYFAIL: return `<path d="M${x - 3} ${y - 3}l6 6m0 -6l-6 6" stroke="#ea580c" stroke-width="2"/>`;
    case EV.WAIT: return `<circle cx="${x}" cy="${y}" r="3.5" fill="#fff" stroke="${c}" stroke-width="1.5"/>`;
    case EV.ENTER: return `<path d="M${x - 4} ${y - 4}h8l-4 7z" fill="#111827"/>`;
    case EV.RET: return `<path d="M${x - 3} ${y + 3}h6l-3 -5z" fill="#9ca3af"/>`;
    case EV.CRASH: return `<circle cx="${x}" cy="${y}" r="5.5" fill="#dc2626"/><path d="M${x - 2.5} ${y - 2.5}l5 5m0 -5l-5 5" stroke="#fff" stroke-width="1.6"/>`;
    case EV.DONE: return `<circle cx="${x}" cy="${y}" r="3" fill="#16a34a"/>`;
    case EV.NOTE: return `<path d="M${x} ${y - 4}l4 4l-4 4l-4 -4z" fill="#2563eb"/>`;
    default: return `<circle cx="${x}" cy="${y}" r="2" fill="#d1d5db"/>`;
  }
}

/** The entry label without the lane name and verb that the lane already shows, cut to the room before the next entry. */
function enterText(label: string, cpuName: string, cols: number): string {
  let t = label.trimStart();
  if (cpuName && t.startsWith(cpuName)) t = t.slice(cpuName.length).trimStart();
  t = t.replace(/^enter\s+/, '');
  const room = Math.max(2, Math.min(28, Math.floor((cols * COL - 4) / 5.6)));
  return t.length > room ? t.slice(0, room - 1) + '…' : t;
}

/** The lock-class colours in use and the key to the event marks. */
function keys(usedClasses: number[], spans: Span[], className: (k: number) => string): { legend: string; key: string } {
  const swatch = (fill: string, stroke: string): string =>
    `<svg width="22" height="10"><rect x="1" y="2" width="20" height="${BAR}" fill="${fill}" stroke="${stroke}" stroke-width="0.5"/></svg>`;
  const legend = usedClasses.map((k) =>
    `<span class="item">${swatch(colour(k), colour(k))}${spans.some((s) => s.cls === k && s.read) ? swatch(hatch(k), colour(k)) : ''} ${esc(className(k))}</span>`).join('');
  const key = ([[EV.ENTER, 'entry'], [EV.SITE, 'site'], [EV.LOCK, 'lock'], [EV.RLOCK, 'read_lock'], [EV.UNLOCK, 'release'],
    [EV.WAIT, 'wait (dashed until acquired)'], [EV.TRYFAIL, 'trylock failed'], [EV.RET, 'return'], [EV.NOTE, 'note'], [EV.DONE, 'done'], [EV.CRASH, 'crash']] as const)
    .map(([k, t]) => `<span class="item"><svg width="14" height="14">${mark(k, 7, 7, 0)}</svg> ${t}</span>`).join('');
  return { legend, key };
}

interface LaneCtx {
  input: TimelineInput; n: number; width: number; laneY: number[]; laneH: number[]; spans: Span[]; waits: Wait[]; crashAt: number;
  name(c: number): string; className(k: number): string;
}

/** One vCPU's lane: its lock holds (stacked when nested), waits, event marks, entry labels and the crash. */
function drawLane(c: number, x: LaneCtx): string {
  const { input, n, width, laneH, spans, waits, crashAt, name, className } = x;
  const ev = input.events;
  const y0 = x.laneY[c];
  const out: string[] = [`<g class="lane" data-cpu="${c}">`];
  for (const s of spans.filter((x) => x.cpu === c)) {
    // From the acquire mark to the release mark; an unreleased hold runs off the right edge.
    const x0 = cx(s.start) - 3, w = (s.open ? width : cx(s.end) + 3) - x0;
    const note = s.orphan ? ', acquired before the recorded window' : s.open ? ', never released in the trace' : '';
    out.push(`<rect class="hold${s.read ? ' read' : ''}${s.open ? ' open' : ''}" x="${x0}" y="${y0 + HOLD_TOP + s.slot * SLOT}" width="${w}" height="${BAR}" ` +
      `fill="${s.read ? hatch(s.cls) : colour(s.cls)}" stroke="${colour(s.cls)}" stroke-width="0.5">` +
      `<title>${esc(`${s.read ? 'read ' : ''}${className(s.cls)} ${hex(s.addr)} held by ${name(c)}, events ${s.start}–${s.end}${note}`)}</title></rect>`);
  }
  for (const w of waits.filter((x) => x.cpu === c)) {
    out.push(`<line class="wait${w.open ? ' open' : ''}" x1="${cx(w.start)}" y1="${y0 + MARK_Y}" x2="${w.open ? width : cx(w.end)}" y2="${y0 + MARK_Y}" stroke="${colour(w.cls)}">` +
      `<title>${esc(`${name(c)} waits for ${className(w.cls)}${w.open ? ' and never gets it' : `, events ${w.start}–${w.end}`}`)}</title></line>`);
  }
  const enters = ev.map((e, i) => (e.cpu === c && e.ev === EV.ENTER ? i : -1)).filter((i) => i >= 0);
  ev.forEach((e, i) => {
    if (e.cpu !== c) return;
    out.push(`<g class="ev k${e.ev | 0}"><title>${esc(`#${i} seq ${e.seq} ${name(c)}: ${e.label}`)}</title>` +
      `<rect class="hit" x="${i * COL}" y="${y0}" width="${COL}" height="${HOLD_TOP}"/>${mark(e.ev, cx(i), y0 + MARK_Y, e.a)}</g>`);
  });
  enters.forEach((i, k) => {
    const room = (enters[k + 1] ?? Math.max(n, 8)) - i;
    out.push(`<text class="enter" x="${i * COL + 2}" y="${y0 + LABEL_ROW - 2}">${esc(enterText(ev[i].label, name(c), room))}</text>`);
  });
  if (input.crash && input.crash.cpu === c) {
    out.push(`<g class="crash-marker"><title>${esc(`crash: ${input.crash.where}: ${input.crash.message}`)}</title>` +
      `<rect x="${crashAt * COL}" y="${y0}" width="${COL}" height="${laneH[c]}" fill="#dc2626" fill-opacity="0.18"/>` +
      `<line x1="${cx(crashAt)}" y1="${y0}" x2="${cx(crashAt)}" y2="${y0 + laneH[c]}" stroke="#dc2626" stroke-width="2"/>` +
      `${mark(EV.CRASH, cx(crashAt), y0 + MARK_Y, 0)}</g>`);
  }
  out.push('</g>');
  return out.join('');
}

/** The timeline without a page around it (inside a <div class="timeline">): a report embeds several. */
export function timelineFragment(input: TimelineInput, o: { eventTable?: boolean } = {}): string {
  idPrefix = `t${++timelines}`;
  const ev = input.events;
  const n = ev.length;
  const lanes = ev.reduce((m, e) => Math.max(m, e.cpu + 1), Math.max(input.cpuNames.length, input.crash ? input.crash.cpu + 1 : 0));
  const name = (c: number): string => input.cpuNames[c] ?? `cpu${c}`;
  const className = (k: number): string => input.lockClasses[k] ?? `class${k}`;
  const { spans, waits } = pair(ev, lanes);

  const laneH = Array.from({ length: lanes }, (_, c) =>
    HOLD_TOP + Math.max(1, ...spans.filter((s) => s.cpu === c).map((s) => s.slot + 1)) * SLOT + LANE_PAD);
  const laneY: number[] = [];
  laneH.reduce((y, h, c) => { laneY[c] = y; return y + h; }, AXIS);
  const height = AXIS + laneH.reduce((a, b) => a + b, 0);
  const width = Math.max(n, 8) * COL;

  let crashAt = -1;
  if (input.crash) {
    const c = input.crash.cpu;
    crashAt = ev.findIndex((e) => e.cpu === c && e.ev === EV.CRASH);
    if (crashAt === -1) crashAt = ev.map((e) => e.cpu).lastIndexOf(c);
    if (crashAt === -1) crashAt = Math.max(0, n - 1);
  }

  const usedClasses = [...new Set(ev.filter((e) => e.ev >= EV.LOCK && e.ev <= EV.WAIT).map((e) => e.a))].sort((a, b) => a - b);
  // Class 0 too: the key's read_lock sample uses it.
  const defs = [...new Set([0, ...usedClasses])].map((k) =>
    `<pattern id="${idPrefix}-hatch-${k | 0}" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<rect width="4" height="4" fill="#fff"/><rect width="2" height="4" fill="${colour(k)}"/></pattern>`).join('');

  const svg: string[] = Array.from({ length: lanes }, (_, c) =>
    `<rect x="0" y="${laneY[c]}" width="${width}" height="${laneH[c]}" class="lane-bg${c % 2 ? ' odd' : ''}"/>`);
  for (let i = 0; i < n; i += 10) {
    svg.push(`<line x1="${i * COL}" y1="${AXIS - 4}" x2="${i * COL}" y2="${height}" class="grid"/>`,
      `<text x="${i * COL + 2}" y="${AXIS - 7}" class="tick">${i}</text>`);
  }
  for (let c = 0; c < lanes; c++) svg.push(drawLane(c, { input, n, width, laneY, laneH, spans, waits, crashAt, name, className }));
  if (n === 0) svg.push(`<text x="8" y="${AXIS + 28}" class="empty">no events recorded</text>`);

  const names = Array.from({ length: lanes }, (_, c) =>
    `<text class="lane-name" x="${NAME_W - 8}" y="${laneY[c] + MARK_Y + 4}">${esc(name(c))}</text>`).join('');

  const { legend, key } = keys(usedClasses, spans, className);

  const verdict = ['expected', 'acceptable', 'forbidden'].includes(input.verdict ?? '') ? input.verdict : 'unknown';
  const rows = ev.map((e, i) =>
    `<tr${i === crashAt && input.crash ? ' class="crash-row"' : ''}><td>${i}</td><td>${esc(name(e.cpu))}</td><td>${esc(KIND[e.ev] ?? e.ev)}</td><td>${esc(e.label)}</td></tr>`).join('\n');

  return `<div class="timeline">
<div>outcome: <span class="outcome verdict-${verdict} o-${input.outcome === 'ok' ? 'clean' : input.outcome === 'domain-crashed' ? 'other' : 'crash'}">${esc(input.outcome)}</span>${input.verdict ? ` (${esc(input.verdict)})` : ''} · ${n} events</div>
${input.schedule !== undefined ? `<div>schedule: <code>${esc(input.schedule)}</code></div>` : ''}
${input.replayCommand !== undefined ? `<pre><code>${esc(input.replayCommand)}</code></pre>` : ''}
${input.crash ? `<div class="crash-banner"><strong>crash on ${esc(name(input.crash.cpu))}</strong> at <code>${esc(input.crash.where)}</code>: ${esc(input.crash.message)}</div>` : ''}
<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>${defs}</defs></svg>
<div class="legend">${legend}</div>
<div class="legend">${key}</div>
<div class="chart">
<svg class="names" width="${NAME_W}" height="${height}">${names}</svg>
<div class="scroll" data-focus-x="${cx(crashAt >= 0 ? crashAt : Math.max(0, n - 1))}"><svg class="lanes" width="${width}" height="${height}">
${svg.join('\n')}
</svg></div>
</div>
${o.eventTable === false ? '' : `<table class="events">
<thead><tr><th>#</th><th>vCPU</th><th>kind</th><th>event</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`}
</div>`;
}

/** Styles of timelineFragment, scoped to .timeline so a report page can carry them. */
export const TIMELINE_CSS = `
.timeline code, .timeline pre { font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; }
.timeline pre { background: #f3f4f6; padding: 6px 10px; overflow-x: auto; user-select: all; }
.timeline .outcome { font-weight: 600; padding: 1px 6px; border-radius: 3px; }
.verdict-expected { background: #dcfce7; color: #166534; } .verdict-acceptable { background: #fef3c7; color: #92400e; }
.verdict-forbidden { background: #fee2e2; color: #991b1b; } .verdict-unknown { background: #e5e7eb; }
.timeline .outcome.o-crash { background: #fee2e2; color: #991b1b; } .timeline .outcome.o-clean { background: #dcfce7; color: #166534; } .timeline .outcome.o-other { background: #fef3c7; color: #92400e; }
.timeline .outcome.verdict-forbidden { outline: 2px solid #111827; }
.timeline .crash-banner { border-left: 4px solid #dc2626; background: #fef2f2; padding: 6px 10px; margin: 10px 0; }
.timeline .legend { margin: 8px 0; font-size: 12px; } .timeline .legend .item { margin-right: 14px; white-space: nowrap; } .timeline .legend svg { vertical-align: middle; }
.timeline .chart { display: flex; border: 1px solid #e5e7eb; }
.timeline .chart .scroll { overflow-x: auto; flex: 1; }
.timeline .lane-bg { fill: #fff; } .timeline .lane-bg.odd { fill: #f9fafb; }
.timeline .grid { stroke: #e5e7eb; } .timeline .tick { font-size: 10px; fill: #6b7280; }
.timeline .lane-name { font: 600 12px ui-monospace, monospace; text-anchor: end; }
.timeline .enter { font-size: 10px; fill: #111827; } .timeline .empty { font-size: 12px; fill: #6b7280; }
.timeline .hit { fill: transparent; } .timeline .ev:hover .hit { fill: #00000010; }
.timeline .wait { stroke-width: 1.5; stroke-dasharray: 3 2; }
.timeline .hold.open { stroke-dasharray: 2 1; }
.timeline table { border-collapse: collapse; margin-top: 16px; font-size: 12px; }
.timeline td, .timeline th { padding: 1px 10px 1px 0; text-align: left; vertical-align: top; }
.timeline td:nth-child(4) { font-family: ui-monospace, monospace; white-space: pre; }
.timeline tr.crash-row { background: #fee2e2; }
`;

/** One failing interleaving as a page of its own, to attach to a bug report. */
export function renderTimeline(input: TimelineInput): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; ${scriptCsp()}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #111827; }
h1 { font-size: 20px; margin: 0 0 6px; }
${TIMELINE_CSS}</style>
</head>
<body>
<h1>${esc(input.title)}</h1>
${timelineFragment(input)}
<script>${SCROLL_SCRIPT}</script>
</body>
</html>
`;
}
