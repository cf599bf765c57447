// The report of `vpci-lab bench locks`: rows, goal ratios (issue 10), and the text table.

export interface BenchRow {
  lock: string; mode: string; threads: number; nsPerOp: number; opsPerSec: number;
  /** Contended modes: ns/op of each counted round, rounds dropped (no overlap / too short), iterations per thread. */
  rounds?: { counted: number[]; dropped: number; itersPerThread: number; overlaps: number[] };
  /** Contended modes: ticket waits that went to sleep, per acquisition, over every round run (counted or not). */
  sleepsPerOp?: number;
  /** Contended modes: lib/sync/wait.ts WAIT_COUNTS per acquisition (waits, spins, spinOut, ..., sleepUs, wakes). */
  waitsPerOp?: number[];
  /** spinlock-c11-futex-hold: the busy wait (ns) C made inside its critical section (the lab's raw pair beyond C's). */
  holdNs?: number;
}
export interface Goal { goal: string; value: number | null; limit: number; met: boolean | null; detail: string }
export interface BenchReport {
  cores: number;
  node: string;
  quick: boolean;
  /** os.loadavg() when the run started and ended: other work on the machine skews absolute figures. */
  load?: { start: number[]; end: number[] };
  results: BenchRow[];
  reference: BenchRow[];
  referenceNote?: string;
  /** How the lab's threads sleep and wake (lib/sched/futex.ts futexStatus): futex on, or off and why. */
  waits?: string;
  goals: Goal[];
}

function find(rows: readonly BenchRow[], lock: string, mode: string, threads: number): number | undefined {
  return rows.find((r) => r.lock === lock && r.mode === mode && r.threads === threads)?.nsPerOp;
}
const ok = (x: number | undefined): number | undefined => (x === undefined || Number.isNaN(x) ? undefined : x);

/** The goals of issues 10 and 25, as ratios of figures from the same run. */
export function goals(results: readonly BenchRow[], reference: readonly BenchRow[], refNote?: string): Goal[] {
  const out: Goal[] = [];
  const ratio = (goal: string, a: number | undefined, b: number | undefined, limit: number, what: string, missing: string): void => {
    a = ok(a); b = ok(b);
    if (a === undefined || b === undefined) { out.push({ goal, value: null, limit, met: null, detail: missing }); return; }
    const v = Math.round((a / b) * 100) / 100;
    out.push({ goal, value: v, limit, met: v <= limit, detail: `${what}: ${a.toFixed(1)} / ${b.toFixed(1)} ns = ${v.toFixed(2)}x` });
  };
  // The uncontended pair is held to what JavaScript can do at all (the two atomic operations of a ticket pair,
  // measured in the same run), not to C: two Atomics calls alone cost about three times C's whole pair here (issue
  // 25 restated issue 10's "<= 2.5x C" so). The C pair stays in the table.
  const floor = find(results, 'atomics-floor', 'uncontended', 1), instr = find(results, 'spinlock', 'uncontended-instrumented', 1);
  if (floor !== undefined) ratio('uncontended spin_lock+spin_unlock <= 1.5x the atomics floor', find(results, 'spinlock', 'uncontended', 1), floor, 1.5, 'lab (raw) / atomics floor per pair', '');
  if (instr !== undefined) ratio('instrumented spin_lock+spin_unlock <= 3x raw', instr, find(results, 'spinlock', 'uncontended', 1), 3, 'instrumented / raw per pair', '');
  for (const t of [2, 4, 8]) {
    if (!results.some((r) => r.mode === 'contended' && r.threads === t)) continue;
    ratio(`contended, ${t} threads <= 3x C per acquisition`, find(results, 'spinlock', 'contended', t), find(reference, 'spinlock-c11-futex', 'contended', t), 3,
      'lab / C (same wait policy)', refNote ?? 'no counted C round');
  }
  return out;
}

const dropped = (x: BenchRow | undefined): string => (x?.rounds ? String(x.rounds.dropped) : '-');
/** The C reference's contended row for a wait policy and thread count. */
const cRow = (r: BenchReport, policy: string, threads: number): BenchRow | undefined =>
  r.reference.find((y) => y.lock === `spinlock-c11-${policy}` && y.threads === threads);

export function formatReport(r: BenchReport): string {
  const lines: string[] = [];
  const load = r.load ? `; load average ${r.load.start[0].toFixed(1)} at start, ${r.load.end[0].toFixed(1)} at end` : '';
  lines.push(`vpci-lab bench locks — ${r.cores} cores, node ${r.node}${r.quick ? ', --quick' : ''}${load}`);
  if (r.waits) lines.push(`lab waits: ${r.waits}`);
  lines.push('');
  lines.push('uncontended pairs, ns (one thread; raw = profiling, lockdep and lock tracing off):');
  const un = (lock: string, mode: string): string => { const v = find(r.results, lock, mode, 1); return v === undefined ? '-' : v.toFixed(1); };
  const floor = find(r.results, 'atomics-floor', 'uncontended', 1);
  const c = find(r.reference, 'spinlock-c11', 'uncontended', 1);
  lines.push(table([
    ['pair', 'atomics floor', 'raw', 'instrumented', 'C11'],
    ['spin_lock+spin_unlock', floor === undefined ? '-' : floor.toFixed(1), un('spinlock', 'uncontended'), un('spinlock', 'uncontended-instrumented'), c === undefined ? '-' : c.toFixed(1)],
    ['read_lock+read_unlock', '', un('rwlock-read', 'uncontended'), un('rwlock-read', 'uncontended-instrumented'), ''],
    ['write_lock+write_unlock', '', un('rwlock-write', 'uncontended'), un('rwlock-write', 'uncontended-instrumented'), ''],
  ]));
  lines.push('');
  lines.push('contended spinlock, ns per acquisition (median of counted rounds; dropped = rounds without >= 90% overlap or < 200 ms):');
  const rows = [['threads', 'lab', 'dropped', 'C futex', 'dropped', 'lab / C', 'C v8wait', 'dropped', 'lab / C v8wait', 'C yield', 'dropped']];
  const ns = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(0));
  const per = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : '-');
  for (const x of r.results.filter((y) => y.lock === 'spinlock' && y.mode === 'contended')) {
    const f = cRow(r, 'futex', x.threads), v = cRow(r, 'v8wait', x.threads), y = cRow(r, 'yield', x.threads);
    const fx = ok(f?.nsPerOp), vx = ok(v?.nsPerOp), lx = ok(x.nsPerOp);
    rows.push([String(x.threads), ns(lx), dropped(x), ns(fx), dropped(f), per(lx, fx), ns(vx), dropped(v), per(lx, vx), ns(ok(y?.nsPerOp)), dropped(y)]);
  }
  lines.push(table(rows));
  lines.push(...pairCostLines(r));
  const sleepRows = [['threads', 'lab', 'C futex', 'C v8wait']];
  const sleeps = (x: BenchRow | undefined): string => (x?.sleepsPerOp === undefined ? '-' : x.sleepsPerOp.toFixed(3));
  for (const x of r.results.filter((y) => y.lock === 'spinlock' && y.mode === 'contended' && y.threads > 1)) {
    sleepRows.push([String(x.threads), sleeps(x), sleeps(cRow(r, 'futex', x.threads)), sleeps(cRow(r, 'v8wait', x.threads))]);
  }
  if (sleepRows.length > 1 && r.results.some((x) => x.sleepsPerOp !== undefined)) {
    lines.push('\nticket waits that slept, per acquisition (every round run):');
    lines.push(table(sleepRows));
  }
  const waitRows = [['threads', 'side', 'waits', 'ahead', 'spins', 'spin out', 'park on handoff', 'sleeps', 'us slept', 'wake holder', 'wake next', 'admits', 'yields']];
  for (const x of r.results.filter((y) => y.lock === 'spinlock' && y.mode === 'contended' && y.threads > 1)) {
    for (const [side, w] of [['lab', x], ['C futex', cRow(r, 'futex', x.threads)], ['C futex-hold', cRow(r, 'futex-hold', x.threads)], ['C v8wait', cRow(r, 'v8wait', x.threads)]] as const) {
      // (a report written before the admission counts has fewer columns: '-')
      if (w?.waitsPerOp) waitRows.push([String(x.threads), side, ...waitRows[0].slice(2).map((_, i) => w.waitsPerOp![i]?.toFixed(w.waitsPerOp![i] >= 10 ? 1 : 4) ?? '-')]);
    }
  }
  if (waitRows.length > 1) {
    lines.push('\nwhat the ticket waits did, per acquisition (every round run; lib/sync/wait.ts and ticket.c count alike):');
    lines.push(table(waitRows));
  }
  const rm = r.results.find((x) => x.mode === 'read-mostly-90/10');
  if (rm) lines.push(`\nread-mostly rwlock 90/10, ${rm.threads} threads: ${rm.nsPerOp.toFixed(0)} ns per section (${dropped(rm)} rounds dropped)`);
  if (r.referenceNote) lines.push(`note: ${r.referenceNote}`);
  lines.push('');
  lines.push('goals:');
  for (const g of r.goals) {
    const status = g.met === null ? 'n/a' : g.met ? 'met' : 'NOT MET';
    lines.push(`  ${status.padEnd(7)}  ${g.goal}: ${g.detail}`);
  }
  return lines.join('\n');
}

/**
 * What the contended ratios owe to the pair's own cost: lab / C futex at each thread count divided by the same at one
 * thread (where nothing waits), and lab / C futex holding its lock as long as the lab's pair costs beyond C's.
 */
function pairCostLines(r: BenchReport): string[] {
  const lab = (t: number): number | undefined => ok(find(r.results, 'spinlock', 'contended', t));
  const c = (p: string, t: number): number | undefined => ok(cRow(r, p, t)?.nsPerOp);
  const one = lab(1) !== undefined && c('futex', 1) !== undefined ? lab(1)! / c('futex', 1)! : undefined;
  const rows = [['threads', 'lab / C futex', '/ same at 1 thread', 'C futex + held', 'lab / C futex + held']];
  for (const x of r.results.filter((y) => y.lock === 'spinlock' && y.mode === 'contended')) {
    const t = x.threads, f = c('futex', t), h = c('futex-hold', t), l = lab(t);
    const q = l !== undefined && f !== undefined ? l / f : undefined;
    rows.push([String(t), q === undefined ? '-' : `${q.toFixed(2)}x`, q !== undefined && one !== undefined ? `${(q / one).toFixed(2)}x` : '-',
      h === undefined ? '-' : h.toFixed(0), l !== undefined && h !== undefined ? `${(l / h).toFixed(2)}x` : '-']);
  }
  const held = r.reference.find((y) => y.lock === 'spinlock-c11-futex-hold')?.holdNs;
  if (rows.length < 2 || (one === undefined && held === undefined)) return [];
  return [`\nthe pair's own cost in the contended ratios (C futex + held: C holding its lock ${held === undefined ? '-' : held.toFixed(0)} ns longer, the lab's raw pair beyond C's):`, table(rows)];
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
  const fmt = (cells: string[]): string => cells.map((s, i) => (i === 0 ? s.padEnd(w[i]) : s.padStart(w[i]))).join('  ');
  return [fmt(rows[0]), w.map((n) => '-'.repeat(n)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}
