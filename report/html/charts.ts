// Small inline SVG charts for the report: a latency distribution as log2-binned bars. No script, no fonts from
// anywhere: the page stays one self-contained file.

import { esc } from '../timeline.js';
import type { Distribution } from './model.js';

/** 1234 ns -> "1.2 µs". */
export function nsText(ns: number): string {
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 1 : 0)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 1 : 0)} ms`;
  return `${(ns / 1e9).toFixed(1)} s`;
}

const W = 180, H = 44, AXIS = 12;

/** Bars per log2 bin, height by share of the count; p50/p99 marked; hover a bar for its range and count. */
export function distributionChart(d: Distribution | undefined, what: string, colour: string): string {
  if (!d || d.bins.length === 0) return '<span class="none">–</span>';
  const n = d.bins.length, bw = W / n, top = Math.max(...d.bins.map((b) => b.count));
  const bars = d.bins.map((b, i) => {
    const h = b.count === 0 ? 0 : Math.max(1, ((H - AXIS) * b.count) / top);
    return `<rect x="${(i * bw + 0.5).toFixed(1)}" y="${(H - AXIS - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}">`
      + `<title>${esc(`${what} ${nsText(b.lo)}–${nsText(b.hi)}: ${b.count.toLocaleString('en-US')} (${((100 * b.count) / d.count).toFixed(1)}%)`)}</title></rect>`;
  }).join('');
  const at = (v: number): number => { const i = d.bins.findIndex((b) => v < b.hi); return (i < 0 ? n - 0.5 : i + 0.5) * bw; };
  const marks = ([['p50', d.p50], ['p99', d.p99]] as const).map(([l, v]) =>
    `<line x1="${at(v).toFixed(1)}" x2="${at(v).toFixed(1)}" y1="0" y2="${H - AXIS}" class="pmark"><title>${l} ${esc(nsText(v))}</title></line>`).join('');
  const axis = `<text x="0" y="${H - 2}" class="axis">${esc(nsText(d.bins[0].lo))}</text><text x="${W}" y="${H - 2}" class="axis end">${esc(nsText(d.bins[n - 1].hi))}</text>`;
  return `<svg class="dist" width="${W}" height="${H}" role="img" aria-label="${esc(`${what} distribution`)}">${bars}${marks}${axis}</svg>`
    + `<div class="pct">p50 ${esc(nsText(d.p50))} · p99 ${esc(nsText(d.p99))} · max ${esc(nsText(d.max))}</div>`;
}
