// Issue 21, item 3: hunt generates everything the model implements. Every entry point of the actor API (the
// model's hypercalls and guest accesses), every hypercall lib/xen/hypercall.ts implements, and every fault point a
// scenario can script is reached by an action kind the generator draws. A new entry point fails this test until
// hunt can generate it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { programArb } from '../../../lib/explore/hunt/generate.js';
import { ENTRY_POINTS, NOT_ENTRY_POINTS, statement, type Action } from '../../../lib/explore/hunt/program.js';
import { VPCI_INIT } from '../../../lib/xen/fault.js';

const src = (rel: string): string => fs.readFileSync(new URL(`../../../../${rel}`, import.meta.url), 'utf8');

/** The members of the actor API, read from its declaration. */
function apiMembers(): string[] {
  const text = src('workers/scenario-actor.ts');
  const body = text.slice(text.indexOf('export interface ScenarioApi {'), text.indexOf('\n}', text.indexOf('export interface ScenarioApi {')));
  return [...body.matchAll(/^\s+(?:readonly\s+)?(\w+)[(:]/gm)].map((m) => m[1]);
}

/** Every action kind (and fault point) the generator draws, over many programs. */
function drawn(): { ops: Set<string>; faults: Set<string>; calls: Set<string> } {
  const ops = new Set<string>(), faults = new Set<string>(), calls = new Set<string>();
  fc.assert(fc.property(programArb({ domu: 'detach' }), (p) => {
    for (const v of p.vcpus) for (const a of v.actions as Action[]) {
      ops.add(a.op);
      if (a.op === 'fail') faults.add(a.what);
      for (const m of statement(a).code.matchAll(/\bx\.(\w+)\(/g)) calls.add(m[1]);
    }
  }), { numRuns: 3000, seed: 7 });
  return { ops, faults, calls };
}

describe('hunt generates every entry point of the model (issue 21)', function () {
  this.timeout(120_000);
  const d = drawn();

  it('every actor API entry point is mapped to action kinds, and the generator draws each of them', () => {
    for (const m of apiMembers()) {
      if (NOT_ENTRY_POINTS.includes(m)) continue;
      const kinds = ENTRY_POINTS[m];
      assert.ok(kinds && kinds.length, `the actor API's ${m} is an entry point no hunt action kind reaches (add one: program.ts, generate.ts)`);
      for (const k of kinds) assert.ok(d.ops.has(k), `action kind ${k} (for ${m}) is never generated`);
      assert.ok(d.calls.has(m), `no generated statement calls x.${m}`);
    }
  });

  it('every hypercall lib/xen/hypercall.ts implements is reachable from the actor API', () => {
    const hypercalls = [...src('lib/xen/hypercall.ts').matchAll(/^export function ((?:PHYSDEVOP|XEN_DOMCTL)_\w+)/gm)].map((m) => m[1]);
    assert.ok(hypercalls.length >= 7, hypercalls.join(' '));
    const actor = src('workers/scenario-actor.ts');
    for (const h of hypercalls) assert.match(actor, new RegExp(`=> ${h}\\(|${h}\\(`), `${h} has no actor API entry point, so hunt cannot generate it`);
  });

  it('every fault point a scenario can script is generated: iommu, map and each vPCI init hook', () => {
    for (const f of ['iommu', 'map', ...VPCI_INIT]) assert.ok(d.faults.has(f), `failNext('${f}') is never generated`);
  });

  it('the control: a member missing from ENTRY_POINTS is caught', () => {
    const members = [...apiMembers(), 'frobnicate'];
    assert.deepEqual(members.filter((m) => !NOT_ENTRY_POINTS.includes(m) && !ENTRY_POINTS[m]), ['frobnicate']);
  });
});
