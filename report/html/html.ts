// One self-contained HTML report page from a ReportModel (stress/report/model.ts): the outcome matrix coloured by
// verdict, lock wait/hold distributions as small charts, and every first failure with its interleaving timeline
// (stress/timeline.ts). Inline CSS and SVG only; a Content-Security-Policy forbids any fetch, so the file opens the
// same offline, attached to a bug or served by CI. Every string from the model is escaped here.

import { esc, timelineFragment, TIMELINE_CSS } from '../timeline.js';
import { distributionChart } from './charts.js';
import { worstTone, type ReportModel, type MatrixCell, type LockRow, type FailureSection } from './model.js';

export type { ReportModel } from './model.js';

/** Failure timelines open on load; the rest open on click (a big explore has dozens). */
const OPEN_TIMELINES = 3;

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #111827; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; } h3 { font-size: 15px; margin: 0; display: inline; }
.sub { color: #4b5563; margin-bottom: 10px; }
table.matrix, table.locks { border-collapse: collapse; font-size: 12px; }
.matrix th, .matrix td, .locks th, .locks td { border: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; }
.matrix th { background: #f9fafb; } .matrix td a { color: inherit; text-decoration: none; display: block; }
.matrix td.tone-expected { background: #f0fdf4; } .matrix td.tone-acceptable { background: #fffbeb; }
.matrix td.tone-forbidden { background: #fef2f2; } .matrix td.tone-neutral { background: #fff; }
.chip { display: inline-block; padding: 0 5px; margin: 1px 2px; border-radius: 3px; white-space: nowrap; font-family: ui-monospace, monospace; }
.chip.expected { background: #dcfce7; color: #166534; } .chip.acceptable { background: #fef3c7; color: #92400e; }
.chip.forbidden { background: #fee2e2; color: #991b1b; font-weight: 600; } .chip.neutral { background: #f3f4f6; }
.legend-row { margin: 6px 0 0; font-size: 12px; } .legend-row .chip { margin-right: 4px; }
.locks td.num { text-align: right; font-variant-numeric: tabular-nums; } .locks .pct { font-size: 11px; color: #4b5563; }
.dist .axis { font-size: 9px; fill: #6b7280; } .dist .axis.end { text-anchor: end; } .dist .pmark { stroke: #111827; stroke-dasharray: 2 2; }
.none { color: #9ca3af; }
details.failure { border: 1px solid #e5e7eb; border-left: 4px solid #9ca3af; margin: 10px 0; padding: 6px 10px; }
details.failure.forbidden { border-left-color: #dc2626; } details.failure.expected { border-left-color: #16a34a; }
details.failure.acceptable { border-left-color: #d97706; }
details.failure summary { cursor: pointer; } .failure .line { color: #374151; margin-left: 6px; }
.notes { color: #4b5563; font-size: 12px; }
`;

function cellHtml(c: MatrixCell | null): string {
  if (!c) return '<td class="tone-neutral"><span class="none">–</span></td>';
  const chips = c.parts.map((p) => `<span class="chip ${p.tone}">${esc(p.label)}${p.count !== undefined ? ` ${esc(p.count.toLocaleString('en-US'))}` : ''}</span>`).join('');
  const body = c.href ? `<a href="#${esc(c.href)}">${chips}</a>` : chips;
  return `<td class="tone-${worstTone(c.parts)}"${c.title ? ` title="${esc(c.title)}"` : ''}>${body}</td>`;
}

function matrixHtml(m: ReportModel): string {
  const head = `<tr><th>${esc(m.matrix.corner)}</th>${m.matrix.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const rows = m.matrix.rows.map((r) => `<tr><th>${esc(r.name)}</th>${r.cells.map(cellHtml).join('')}</tr>`).join('\n');
  const legend = m.legend.map((l) => `<span class="chip ${l.tone}">${esc(l.tone === 'neutral' ? 'figure' : l.tone)}</span>${esc(l.text)}`).join(' &nbsp; ');
  return `<table class="matrix" id="matrix">\n${head}\n${rows}\n</table>\n<div class="legend-row">${legend}</div>`;
}

function locksHtml(rows: LockRow[]): string {
  const head = '<tr><th>strategy</th><th>lock class</th><th>acquired</th><th>contended</th><th>wait (contended acquisitions)</th><th>hold</th></tr>';
  const body = rows.map((r) => `<tr><td>${esc(r.group)}</td><td>${esc(r.lock)}</td><td class="num">${esc(r.acquisitions.toLocaleString('en-US'))}</td>`
    + `<td class="num">${esc(((100 * r.contended) / Math.max(1, r.acquisitions)).toFixed(1))}%</td>`
    + `<td>${distributionChart(r.wait, `${r.group} ${r.lock} wait`, '#d97706')}</td><td>${distributionChart(r.hold, `${r.group} ${r.lock} hold`, '#2563eb')}</td></tr>`).join('\n');
  return `<h2>Lock statistics</h2>\n<p class="notes">Wait and hold times per lock class, from HdrHistograms kept by every CPU during the run and merged; bars are log2 bins, dashed lines p50 and p99.</p>\n<table class="locks" id="locks">\n${head}\n${body}\n</table>`;
}

function failureHtml(f: FailureSection, open: boolean): string {
  const tl = f.timeline ? timelineFragment(f.timeline, { eventTable: false }) : '<p class="none">no flight record kept</p>';
  return `<details class="failure ${f.tone}" id="${esc(f.id)}"${open ? ' open' : ''}>
<summary><h3>${esc(f.title)}</h3><span class="line">${esc(f.summary)}</span></summary>
${f.note ? `<p class="notes">${esc(f.note)}</p>` : ''}${f.replay && !f.timeline ? `<pre><code>${esc(f.replay)}</code></pre>` : ''}
${tl}
</details>`;
}

export function renderReport(m: ReportModel): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title>
<style>${CSS}${TIMELINE_CSS}</style>
</head>
<body>
<h1>${esc(m.title)}</h1>
<div class="sub">${esc(m.subtitle)}</div>
<h2>Outcomes</h2>
${matrixHtml(m)}
${m.locks && m.locks.length ? locksHtml(m.locks) : ''}
<h2>First failures</h2>
${m.failures.length ? m.failures.map((f, i) => failureHtml(f, i < OPEN_TIMELINES)).join('\n') : '<p class="none">no run failed</p>'}
${m.notes && m.notes.length ? `<h2>Notes</h2>\n${m.notes.map((n) => `<p class="notes">${esc(n)}</p>`).join('\n')}` : ''}
</body>
</html>
`;
}
