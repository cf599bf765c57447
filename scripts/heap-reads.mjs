// The rule behind "every access to heap memory is checked" (issue 21), run by check-layers.mjs over lib/xen and
// lib/strategy. A model access `M[p + S.field]` (S a heap struct of lib/xen/types.ts, or BAR / MSIX_ENTRY inside
// one) is accepted only if p was checked by chk(p, S, ...) earlier in the same function with no point between the
// check and the access where another CPU can run: a lock operation, a yield point, a call through the model's
// function table or a register handler (a patch or handler may take locks), a callback, or a lib/xen function
// that reaches one of those. A check inside a loop covers an access in that loop only if it is in the loop too,
// whenever the loop can be preempted (the next iteration reads after the preemption). That is exactly what the
// model's checker needs: between two scheduling points a CPU runs alone, so a block checked live stays live.
//
// The analysis is syntactic and conservative: a check in one branch of a conditional expression counts for what
// follows it. Deliberate exceptions are listed in EXCEPTIONS with their reason.

import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Calls that let another CPU run (lib/sync, lib/sched), whatever lib/xen function they are reached from. */
const SEED = new Set([
  'yield_point', 'lock_yield', 'backoff_point', 'block_on', 'spin_lock', 'spin_unlock', 'spin_lock_recursive',
  'spin_unlock_recursive', 'spin_trylock', 'spin_barrier', 'read_lock', 'read_unlock', 'write_lock', 'write_unlock',
  'read_trylock', 'write_trylock', 'callRead', 'callWrite', 'process_pending_softirqs',
]);
/** Member layouts: words inside a heap block, reached through a pointer derived from the block's. */
const MEMBER = new Set(['BAR', 'MSIX_ENTRY']);

/**
 * Accesses the rule accepts unchecked, by file and function, with the reason. Each is a pointer that no other CPU
 * can free while it is used, or one that is not the start of a block (chk needs a block's start).
 */
export const EXCEPTIONS = [
];

/**
 * Structs the model never frees (domain destruction is not modelled): once checked in a function (not NULL, the
 * right type), a pointer to one stays good across preemption points, so only the first check is required.
 */
export const NEVER_FREED = new Map([
  ['DOMAIN', 'struct domain: no model path frees a domain (domain_destroy is not modelled)'],
  ['VCPU', 'struct vcpu: freed only with its domain, which the model never destroys'],
]);

/** ASSERT(() => cond, ...): the condition, run at once if at all, belongs to the function around it. */
const isAssertCondition = (n) => ts.isArrowFunction(n) && ts.isCallExpression(n.parent) && n.parent.arguments[0] === n && n.parent.expression.getText() === 'ASSERT';
const isFn = (n) => ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n);
const fnName = (n) => n.name?.getText() ?? (n.parent && ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : undefined);

function heapStructs(root) {
  const text = fs.readFileSync(path.join(root, 'lib/xen/types.ts'), 'utf8');
  return new Set([...text.matchAll(/export const (\w+) = defineStruct\(/g)].map((m) => m[1]));
}

/** The callee's name as the rule sees it: `fn.x` -> 'fn.', a plain call -> its name. */
function callee(call) {
  const e = call.expression;
  if (ts.isPropertyAccessExpression(e) && e.expression.getText() === 'fn') return 'fn.';
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return '?';
}

/** Which lib/xen functions may let another CPU run (a fixpoint over calls by name). */
function preemptingFns(sources) {
  const bodies = new Map();
  for (const sf of sources) {
    const visit = (n) => {
      if (isFn(n) && n.body) { const name = fnName(n); if (name) bodies.set(name, [...(bodies.get(name) ?? []), n]); }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  const pre = new Set(SEED);
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, nodes] of bodies) {
      if (pre.has(name)) continue;
      if (nodes.some((n) => callsPreempting(n, pre, bodies))) { pre.add(name); changed = true; }
    }
  }
  return { pre, bodies };
}

function callsPreempting(fnNode, pre, bodies) {
  let hit = false;
  const params = new Set(fnNode.parameters.map((p) => p.name.getText()));
  const visit = (n) => {
    if (hit) return;
    if (ts.isCallExpression(n) && isPreemptCall(n, pre, bodies, params)) { hit = true; return; }
    if (n !== fnNode && isFn(n)) return;
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(fnNode, visit);
  return hit;
}

function isPreemptCall(call, pre, bodies, params) {
  const c = callee(call);
  if (c === 'fn.') return true;
  if (pre.has(c)) return true;
  return params.has(c) || (ts.isIdentifier(call.expression) && !bodies.has(c) && /^(cb|on_|before_|after_)/.test(c));
}

/** The terms of a `+` chain, leftmost first. */
function terms(e) {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) return [...terms(e.left), ...terms(e.right)];
  return [e];
}

/**
 * Helper tables by name, scoped to the file being read: a file's own definition wins; another file's counts only
 * if every file that defines the name agrees (two files may each have a private vpciOf or isHwdom).
 */
let curFile = '';
class Scoped {
  constructor() { this.m = new Map(); }
  set(name, v) { const e = this.m.get(name) ?? new Map(); e.set(curFile, v); this.m.set(name, e); return this; }
  get(name) {
    const e = this.m.get(name);
    if (!e) return undefined;
    if (e.has(curFile)) return e.get(curFile);
    const vals = [...e.values()].map((x) => JSON.stringify(x));
    return vals.every((x) => x === vals[0]) ? [...e.values()][0] : undefined;
  }
  has(name) { return this.get(name) !== undefined; }
  keys() { return this.m.keys(); }
  get size() { return this.m.size; }
}

/** The expression(s) a function returns (an arrow's body, or each return statement's). */
function returns(f) {
  if (!f.body) return [];
  if (!ts.isBlock(f.body)) return [f.body];
  const out = [];
  const visit = (n) => { if (n !== f && isFn(n)) return; if (ts.isReturnStatement(n) && n.expression) out.push(n.expression); ts.forEachChild(n, visit); };
  visit(f.body);
  return out;
}
const strip = (e) => { while (e && (ts.isParenthesizedExpression(e) || ts.isAsExpression(e))) e = e.expression; return e; };

/**
 * Helpers the rule looks through: a checker returns chk(x, S) (vpciOf), a deriver returns param0 + S.field + ...
 * (bar(vpci, i)); names referenced other than as a call's callee (a function table, a handler) are not helpers.
 */
function helpers(sources, structs) {
  const checkers = new Scoped(), derivers = new Scoped(), refs = new Set(), fns = new Map(), argChecks = new Scoped(), called = new Set();
  for (const sf of sources) {
    curFile = sf.fileName;
    const visit = (n) => {
      if (ts.isIdentifier(n) && !(ts.isCallExpression(n.parent) && n.parent.expression === n) && !isFn(n.parent)
        && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) && !(ts.isPropertyAssignment(n.parent) && n.parent.name === n)
        && !ts.isParameter(n.parent) && !ts.isImportClause(n.parent)
        && !(ts.isVariableDeclaration(n.parent) && n.parent.name === n) && !ts.isImportSpecifier(n.parent) && !ts.isExportSpecifier(n.parent)) refs.add(n.text);
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) called.add(n.expression.text);
      if (isFn(n) && n.body) {
        const name = fnName(n);
        if (name) fns.set(name, n);
        const rs = returns(n).map(strip);
        if (name && rs.length && rs.every((r) => ts.isCallExpression(r) && callee(r) === 'chk' && r.arguments.length >= 2)) {
          checkers.set(name, rs[0].arguments[1].getText());
        }
        const p0 = n.parameters[0]?.name.getText();
        const c0 = [];
        const find = (x) => { if (x !== n && isFn(x)) return; if (ts.isCallExpression(x) && callee(x) === 'chk' && x.arguments[0]?.getText() === p0) c0.push(x.arguments[1].getText()); ts.forEachChild(x, find); };
        if (name && p0) find(n.body);
        if (c0.length) argChecks.set(name, c0[0]);
        if (name && rs.length === 1 && p0) {
          const t = terms(rs[0]);
          const field = t.find((x) => ts.isPropertyAccessExpression(x) && ts.isIdentifier(x.expression) && structs.has(x.expression.text));
          if (t.length > 1 && field && ts.isIdentifier(t[0]) && t[0].text === p0) derivers.set(name, field.expression.text);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { checkers, derivers, refs, fns, argChecks, called };
}

/** Analyse one file; returns problems as strings. */
function checkFile(rel, sf, structs, pre, bodies, exceptions, h) {
  curFile = sf.fileName;
  const problems = [];
  const isStructField = (t) => ts.isPropertyAccessExpression(t) && ts.isIdentifier(t.expression) && (structs.has(t.expression.text) || MEMBER.has(t.expression.text));
  const visitFn = (f) => {
    const name = fnName(f) ?? '(anonymous)';
    const params = new Set(f.parameters.map((p) => p.name.getText()));
    const events = []; // {pos, kind: 'check'|'kill'|'preempt'|'access'|'derive', v, s, node}
    const walk = (n) => {
      if (n !== f && isFn(n) && !isAssertCondition(n)) { visitFn(n); return; }
      if (ts.isForStatement(n)) {      // execution order: init, cond, body, incrementor
        for (const c of [n.initializer, n.condition, n.statement, n.incrementor]) if (c) walk(c);
        return;
      }
      ts.forEachChild(n, walk);
      // Post-order: a call's arguments are evaluated before it (chk(x) inside M[...] precedes the access).
      if (ts.isCallExpression(n)) {
        const c = callee(n);
        if (c === 'chkMember' && n.arguments.length >= 2 && ts.isIdentifier(n.arguments[0])) {
          events.push({ pos: n.end, kind: 'check', v: n.arguments[0].text, s: 'member', node: n });
        }
        if (c === 'chk' && n.arguments.length >= 2 && ts.isIdentifier(n.arguments[0])) {
          events.push({ pos: n.end, kind: 'check', v: n.arguments[0].text, s: n.arguments[1].getText(), node: n });
        }
        if (isPreemptCall(n, pre, bodies, params)) events.push({ pos: n.end, kind: 'preempt', node: n });
        else if (h.argChecks.has(c) && n.arguments.length && ts.isIdentifier(strip(n.arguments[0]))) {
          events.push({ pos: n.end, kind: 'check', v: strip(n.arguments[0]).text, s: h.argChecks.get(c), node: n });
        }
        for (const [k, st] of (ts.isIdentifier(n.expression) ? h.accessors.get(c) : undefined) ?? []) {
          const a = strip(n.arguments[k]);
          if (a) events.push({ pos: n.end, kind: 'access', base: terms(a)[0], s: st, node: n });
        }
      }
      if (ts.isVariableDeclaration(n) && n.initializer && ts.isIdentifier(n.name)) bind(n.name.text, n.initializer, n.end);
      if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(n.left)) bind(n.left.text, n.right, n.end);
      if (ts.isElementAccessExpression(n) && n.expression.getText() === 'M') access(n);
    };
    const bind = (v, init, pos) => {
      let e = init;
      while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e)) e = e.expression;
      events.push({ pos: pos - 1, kind: 'kill', v });
      if (ts.isCallExpression(e) && callee(e) === 'chk' && e.arguments.length >= 2) {
        events.push({ pos, kind: 'check', v, s: e.arguments[1].getText(), node: e });
        return;
      }
      if (ts.isCallExpression(e) && callee(e) === 'chkMember') {
        events.push({ pos, kind: 'check', v, s: 'member', node: e });
        return;
      }
      if (ts.isCallExpression(e) && ['xzalloc', 'xzalloc_words'].includes(callee(e)) && e.arguments.length) {
        events.push({ pos, kind: 'check', v, s: e.arguments[0].getText(), node: e }); // a fresh block: live, ours
        return;
      }
      if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && h.checkers.has(e.expression.text)) {
        events.push({ pos, kind: 'check', v, s: h.checkers.get(e.expression.text), node: e });
        return;
      }
      if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && h.derivers.has(e.expression.text) && e.arguments.length) {
        let from = strip(e.arguments[0]);
        if (ts.isCallExpression(from) && callee(from) === 'chk' && from.arguments.length) from = strip(from.arguments[0]);
        events.push({ pos, kind: 'derive', v, from, s: h.derivers.get(e.expression.text), node: e });
        return;
      }
      const ts_ = terms(e);
      const field = ts_.find((t) => ts.isPropertyAccessExpression(t) && ts.isIdentifier(t.expression) && structs.has(t.expression.text));
      if (field && ts_.length > 1) events.push({ pos, kind: 'derive', v, from: ts_[0], s: field.expression.text, node: e });
    };
    const access = (n) => {
      const ts_ = terms(n.argumentExpression);
      const field = ts_.find(isStructField);
      if (!field) return;
      events.push({ pos: n.end, kind: 'access', base: ts_[0], s: field.expression.getText(), node: n });
    };
    if (f.body) walk(f.body);
    events.sort((a, b) => a.pos - b.pos);
    const found = [];
    for (const [i, e] of events.entries()) {
      if (e.kind !== 'access') continue;
      const r = unchecked(events, i, e, f, h);
      if (r) found.push({ ...r, e });
    }
    // A helper that cannot be preempted and is only ever called directly reads through its parameters for its
    // callers: its accesses are checked at each call site instead (inlined), as if written there.
    const paramIdx = (v) => f.parameters.findIndex((p) => p.name.getText() === v);
    const inlinable = fnName(f) && h.called.has(name) && !h.refs.has(name) && !pre.has(name) && found.length > 0 && found.every((x) => x.v && paramIdx(x.v) >= 0 && x.fresh);
    if (inlinable) {
      const sig = new Map(found.map((x) => [`${paramIdx(x.v)}:${x.s}`, [paramIdx(x.v), x.s]]));
      h.next.set(name, [...sig.values()]);
      return;
    }
    for (const { why, e } of found) {
      const line = sf.getLineAndCharacterOfPosition(e.node.getStart()).line + 1;
      const key = `${rel}:${name}`;
      if (exceptions.has(key)) { exceptions.get(key).used = true; continue; }
      problems.push(`${rel}:${line}: ${name}: ${e.node.getText().replace(/\s+/g, ' ').slice(0, 80)} ${why}`);
    }
  };
  const visit = (n) => { if (isFn(n) && n.body && !isAssertCondition(n)) { visitFn(n); return; } ts.forEachChild(n, visit); };
  visit(sf);
  return problems;
}

/** Why access i is not covered by a check (undefined if it is): {why, v (the pointer's variable), s, fresh}. */
function unchecked(events, i, e, f, h) {
  const r = uncheckedWhy(events, i, e, f, h);
  return typeof r === 'string' ? { why: r } : r;
}
function uncheckedWhy(events, i, e, f, h) {
  let base = e.base, s = e.s;
  while (ts.isParenthesizedExpression(base) || ts.isAsExpression(base)) base = base.expression;
  if (ts.isCallExpression(base) && (callee(base) === 'chk' || h.checkers.has(callee(base)))) return undefined;
  if (ts.isCallExpression(base) && h.derivers.has(callee(base)) && base.arguments.length) {
    s = h.derivers.get(callee(base));
    base = strip(base.arguments[0]);
  }
  if (ts.isCallExpression(base) && ['chk', 'chkMember'].includes(callee(base))) return undefined;
  if (!ts.isIdentifier(base)) return 'reads through a pointer no chk() has checked';
  let v = base.text;
  // A member layout (BAR, MSIX_ENTRY): find the variable it was derived from, and the struct it lies in.
  for (let j = i - 1; j >= 0; j--) {
    const d = events[j];
    if (d.v !== v) continue;
    if (d.kind === 'derive') {
      if (!ts.isIdentifier(d.from)) return `through ${v}, derived from an unchecked pointer`;
      v = d.from.text; s = d.s; break;
    }
    if (d.kind === 'kill' || d.kind === 'check') break;
  }
  const memberChecked = MEMBER.has(s) && events.slice(0, i).some((x) => x.kind === 'check' && x.v === v && x.s === 'member');
  if (MEMBER.has(s) && !memberChecked) return { why: `through ${v}, not derived from a checked pointer in this function`, v, s, fresh: !events.slice(0, i).some((x) => x.v === v) };
  let preempted = false;
  for (let j = i - 1; j >= 0; j--) {
    const c = events[j];
    if (c.kind === 'preempt') { if (!leavesBefore(c.node, e.node)) preempted = true; continue; }
    if (c.v !== v) continue;
    if (c.kind === 'kill') return `: ${v} was assigned and not checked since`;
    if (c.kind !== 'check') continue;
    if (c.s !== s && !(c.s === 'member' && MEMBER.has(s))) return `: ${v} was checked as ${c.s}, not ${s}`;
    if (NEVER_FREED.has(s)) return undefined;
    if (preempted) return `: another CPU can run between chk(${v}) and this access`;
    if (loopPreempts(e.node, c.node, f, events)) return `: in a loop that can be preempted, ${v} is checked only outside it`;
    return undefined;
  }
  return { why: `: ${v} is not checked by chk() in this function`, v, s, fresh: !events.slice(0, i).some((x) => x.v === v && x.kind === 'kill') };
}

/** The call sits in a block that ends in return / continue / break / throw and does not hold the access. */
function leavesBefore(call, acc) {
  for (let n = call.parent; n; n = n.parent) {
    if (acc.pos >= n.pos && acc.end <= n.end) return false;
    if (isFn(n)) return false;
    const last = ts.isBlock(n) ? n.statements[n.statements.length - 1] : (ts.isIfStatement(n.parent) && n.parent.expression !== n ? n : undefined);
    if (last && (ts.isReturnStatement(last) || ts.isContinueStatement(last) || ts.isBreakStatement(last) || ts.isThrowStatement(last))) return true;
  }
  return false;
}

/** An enclosing loop of the access, not of the check, with a preemption point in it. */
function loopPreempts(acc, chkNode, f, events) {
  for (let n = acc.parent; n && n !== f; n = n.parent) {
    if (!ts.isIterationStatement(n, false)) continue;
    if (chkNode.pos >= n.pos && chkNode.end <= n.end) return false;
    if (events.some((x) => x.kind === 'preempt' && x.pos > n.pos && x.pos <= n.end)) return true;
  }
  return false;
}

/** Check every file under the given folders; returns problems (including exceptions that no longer apply). */
export function checkHeapAccesses(root, dirs = ['lib/xen', 'lib/strategy']) {
  const files = dirs.flatMap((d) => list(root, d));
  const sources = files.map((rel) => ts.createSourceFile(rel, fs.readFileSync(path.join(root, rel), 'utf8'), ts.ScriptTarget.ES2022, true));
  const structs = heapStructs(root);
  const { pre, bodies } = preemptingFns(sources);
  const h = { ...helpers(sources, structs), accessors: new Scoped(), next: new Scoped() };
  let problems = [], exceptions;
  for (let round = 0; round < 6; round++) {   // accessors of accessors: until the set stops growing
    exceptions = new Map(EXCEPTIONS.map((x) => [x.at, { ...x, used: false }]));
    h.next = new Scoped();
    problems = sources.flatMap((sf, k) => checkFile(files[k], sf, structs, pre, bodies, exceptions, h));
    const same = JSON.stringify([...h.next.m]) === JSON.stringify([...h.accessors.m]);
    h.accessors = h.next;
    if (same) break;
  }
  for (const [at, x] of exceptions) if (!x.used) problems.push(`${at}: listed in EXCEPTIONS but has no unchecked access`);
  return problems;
}

function list(root, dir) {
  const out = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...list(root, rel));
    else if (/\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(rel);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { scriptArgs } = await import('./args.mjs');
  scriptArgs('heap-reads', 'node scripts/heap-reads.mjs (takes no arguments; check-layers runs it too)');
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const p = checkHeapAccesses(root);
  for (const x of p) process.stdout.write(x + '\n');
  process.stdout.write(`${p.length} unchecked heap accesses\n`);
}
