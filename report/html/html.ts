// One self-contained HTML report page from a ReportModel (stress/report/model.ts): the outcome matrix coloured by
// verdict, lock wait/hold distributions as small charts, and every first failure with its interleaving timeline
// (stress/timeline.ts). Inline CSS and SVG only; a Content-Security-Policy forbids any fetch, so the file opens the
// same offline, attached to a bug or served by CI. Every string from the model is escaped here.

import { esc, timelineFragment, TIMELINE_CSS, SCROLL_SCRIPT, scriptCsp } from '../timeline.js';
import { distributionChart } from './charts.js';
import { worstTone, cellKind, outcomeKind, type ReportModel, type MatrixCell, type LockRow, type FailureSection, type Tone } from './model.js';

export type { ReportModel } from './model.js';

/** Failure timelines open on load; the rest open on click (a big explore has dozens). */
const OPEN_TIMELINES = 3;

/** The verdict as a mark, as the terminal prints it. */
const MARK: Record<Tone, string> = { expected: '+', acceptable: '~', forbidden: '!', neutral: '' };

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #111827; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; } h3 { font-size: 15px; margin: 0; display: inline; white-space: nowrap; }
.sub { color: #4b5563; margin-bottom: 10px; }
.summary { border: 1px solid #e5e7eb; border-left: 4px solid #16a34a; padding: 6px 12px; margin: 8px 0 4px; background: #f9fafb; }
.summary.bad { border-left-color: #dc2626; } .summary ul { margin: 4px 0; padding-left: 20px; } .summary .env { color: #4b5563; font-size: 12px; }
table.matrix, table.locks { border-collapse: collapse; font-size: 12px; }
.matrix th, .matrix td, .locks th, .locks td { border: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; }
.matrix th { background: #f9fafb; white-space: nowrap; } .matrix th .desc { display: block; font-weight: normal; color: #4b5563; white-space: normal; max-width: 260px; font-size: 11px; }
.matrix td a { color: inherit; text-decoration: none; display: block; }
.matrix td.o-crash { background: #fef2f2; } .matrix td.o-clean { background: #f0fdf4; } .matrix td.o-other { background: #fffbeb; } .matrix td.o-none { background: #fff; }
.chip { display: inline-block; padding: 0 5px; margin: 1px 2px; border-radius: 3px; white-space: nowrap; font-family: ui-monospace, monospace; border: 1px solid transparent; }
.chip.o-crash { background: #fee2e2; color: #991b1b; } .chip.o-clean { background: #dcfce7; color: #166534; }
.chip.o-other { background: #fef3c7; color: #92400e; } .chip.o-none { background: #f3f4f6; }
.chip.v-forbidden { border-color: #111827; font-weight: 700; } .chip .mark { font-weight: 700; }
.legend-row { margin: 6px 0 0; font-size: 12px; } .legend-row .chip { margin-right: 4px; }
.locks td.num { text-align: right; font-variant-numeric: tabular-nums; } .locks .pct { font-size: 11px; color: #4b5563; }
.dist .axis { font-size: 9px; fill: #6b7280; } .dist .axis.end { text-anchor: end; } .dist .pmark { stroke: #111827; stroke-dasharray: 2 2; }
.none { color: #9ca3af; }
details.failure { border: 1px solid #e5e7eb; border-left: 4px solid #9ca3af; margin: 10px 0; padding: 6px 10px; }
details.failure.o-crash { border-left-color: #dc2626; } details.failure.o-clean { border-left-color: #16a34a; }
details.failure.o-other { border-left-color: #d97706; } details.failure.v-forbidden { outline: 2px solid #111827; outline-offset: -1px; }
details.failure summary { cursor: pointer; } .failure .line { color: #374151; margin-left: 6px; }
.failure .prov { font-size: 12px; margin: 4px 0; } .failure .prov.finding { color: #991b1b; font-weight: 600; } .failure .prov.known { color: #4b5563; }
.failure .halves { border-left: 4px solid #7c3aed; background: #f5f3ff; padding: 4px 10px; margin: 6px 0; font-size: 13px; }
.notes { color: #4b5563; font-size: 12px; }
pre.compact { font: 12px/1.35 ui-monospace, monospace; background: #f9fafb; padding: 6px 10px; overflow-x: auto; }
.crash-banner { border-left: 4px solid #dc2626; background: #fef2f2; padding: 6px 10px; margin: 10px 0; }
`;

const chip = (p: { label: string; count?: number; tone: Tone; outcome?: string }): string =>
  `<span class="chip ${p.outcome !== undefined ? `o-${outcomeKind(p.outcome)}` : 'o-none'} v-${p.tone}">${esc(p.label)}${MARK[p.tone] ? `<span class="mark">${MARK[p.tone]}</span>` : ''}${p.count !== undefined ? ` ${esc(p.count.toLocaleString('en-US'))}` : ''}</span>`;

function cellHtml(c: MatrixCell | null): string {
  if (!c) return '<td class="o-none"><span class="none">–</span></td>';
  const chips = c.parts.map(chip).join('');
  const body = c.href ? `<a href="#${esc(c.href)}">${chips}</a>` : chips;
  return `<td class="o-${cellKind(c.parts) ?? 'none'} v-${worstTone(c.parts)}"${c.title ? ` title="${esc(c.title)}"` : ''}>${body}</td>`;
}

function matrixHtml(m: ReportModel): string {
  const head = `<tr><th>${esc(m.matrix.corner)}</th>${m.matrix.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const rows = m.matrix.rows.map((r) => `<tr><th>${esc(r.name)}${r.description ? `<span class="desc">${esc(r.description)}</span>` : ''}</th>${r.cells.map(cellHtml).join('')}</tr>`).join('\n');
  const colours = [chip({ label: 'crash', tone: 'neutral', outcome: 'null-deref' }) + 'a crash, stale mapping, deadlock or hang', chip({ label: 'ok', tone: 'neutral', outcome: 'ok' }) + 'clean',
    chip({ label: 'other', tone: 'neutral', outcome: 'domain-crashed' }) + 'neither (a DomU crashed on purpose)'].join(' &nbsp; ');
  const legend = m.legend.map((l) => `<b>${esc(MARK[l.tone] || '·')}</b> ${esc(l.text)}`).join(' &nbsp; ');
  return `<table class="matrix" id="matrix">\n${head}\n${rows}\n</table>\n<div class="legend-row">colour is the outcome: ${colours}</div>\n<div class="legend-row">the mark is the verdict: ${legend}; a surprise is outlined</div>`;
}

function summaryHtml(m: ReportModel): string {
  if (!m.summary) return '';
  const { surprises, env } = m.summary;
  const [one, many, none] = m.summary.what ?? ['surprise (an outcome the scenario forbids)', 'surprises (outcomes the scenario forbids)', 'No surprises: every outcome was expected or acceptable.'];
  const list = surprises.length
    ? `<strong>${surprises.length} ${esc(surprises.length === 1 ? one : many)}</strong>:<ul>${surprises.map((x) => `<li>${x.href ? `<a href="#${esc(x.href)}">${esc(x.text)}</a>` : esc(x.text)}</li>`).join('')}</ul>`
    : `<strong>${esc(none)}</strong>`;
  return `<div class="summary${surprises.length ? ' bad' : ''}" id="summary">${list}<div class="env">${esc(env)}</div></div>`;
}

function locksHtml(rows: LockRow[]): string {
  const head = '<tr><th>strategy</th><th>lock class</th><th>acquired</th><th>contended</th><th>wait (contended acquisitions)</th><th>hold</th></tr>';
  const body = rows.map((r) => `<tr><td>${esc(r.group)}</td><td>${esc(r.lock)}</td><td class="num">${esc(r.acquisitions.toLocaleString('en-US'))}</td>`
    + `<td class="num">${esc(((100 * r.contended) / Math.max(1, r.acquisitions)).toFixed(1))}%</td>`
    + `<td>${distributionChart(r.wait, `${r.group} ${r.lock} wait`, '#d97706')}</td><td>${distributionChart(r.hold, `${r.group} ${r.lock} hold`, '#2563eb')}</td></tr>`).join('\n');
  return `<h2>Lock statistics</h2>\n<p class="notes">Wait and hold times per lock class, from HdrHistograms kept by every CPU during the run and merged; bars are log2 bins, dashed lines p50 and p99.</p>\n<table class="locks" id="locks">\n${head}\n${body}\n</table>`;
}

/** A closed failure that is no surprise, as text: the last events and the command that draws its timeline. */
const COMPACT_LINES = 24;
function compactHtml(f: FailureSection): string {
  const ev = f.timeline!.events, shown = ev.slice(-COMPACT_LINES);
  const crash = f.timeline!.crash;
  const lines = shown.map((e, i) => `${String(ev.length - shown.length + i).padStart(4)}  ${e.label}`).join('\n');
  return `${crash ? `<div class="crash-banner"><strong>crash on ${esc(f.timeline!.cpuNames[crash.cpu] ?? `cpu${crash.cpu}`)}</strong> at <code>${esc(crash.where)}</code>: ${esc(crash.message)}</div>` : ''}`
    + `<p class="notes">Expected, so kept compact: the last ${shown.length} of its events. Its timeline: <code>${esc(f.replay ?? '')}</code>${f.replay?.startsWith('vpci-lab repro') ? ' (writes it as HTML)' : ''}</p>`
    + `<pre class="compact">${esc(lines)}</pre>`;
}

function failureHtml(f: FailureSection, open: boolean): string {
  // Timelines of failures the reader expects and has not opened are most of a report's bytes: text instead.
  const compact = !open && f.tone !== 'forbidden' && f.timeline !== undefined && f.replay !== undefined;
  const tl = compact ? compactHtml(f) : f.timeline ? timelineFragment(f.timeline, { eventTable: false }) : '<p class="none">no flight record kept</p>';
  const kind = f.outcome !== undefined ? outcomeKind(f.outcome) : f.tone === 'forbidden' ? 'crash' : 'other';
  const prov = f.provenance ? `<div class="prov ${f.provenance === 'finding' ? 'finding' : 'known'}">${esc(f.provenance === 'finding' ? 'a finding (no known bug of the generation explains it)' : f.provenance)}</div>` : '';
  return `<details class="failure o-${kind} v-${f.tone}" id="${esc(f.id)}"${open ? ' open' : ''}>
<summary><h3>${esc(f.title)}</h3><span class="line">${esc(f.summary)}</span></summary>
${f.description ? `<p class="notes">${esc(f.description)}</p>` : ''}${prov}${f.otherHalf ? `<div class="halves">${esc(f.otherHalf)}</div>` : ''}
${f.note && !compact ? `<p class="notes">${esc(f.note)}</p>` : ''}${f.replay && !f.timeline ? `<pre><code>${esc(f.replay)}</code></pre>` : ''}
${tl}
</details>`;
}

export function renderReport(m: ReportModel): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; ${scriptCsp()}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title>
<style>${CSS}${TIMELINE_CSS}</style>
</head>
<body>
<h1>${esc(m.title)}</h1>
<div class="sub">${esc(m.subtitle)}</div>
${summaryHtml(m)}
<h2>Outcomes</h2>
${matrixHtml(m)}
${m.locks && m.locks.length ? locksHtml(m.locks) : ''}
<h2>First failures</h2>
${m.failures.length ? m.failures.map((f, i) => failureHtml(f, i < OPEN_TIMELINES)).join('\n') : '<p class="none">no run failed</p>'}
${m.notes && m.notes.length ? `<h2>Notes</h2>\n${m.notes.map((n) => `<p class="notes">${esc(n)}</p>`).join('\n')}` : ''}
<script>${SCROLL_SCRIPT}</script>
</body>
</html>
`;
}
