// The hunt's generator never produces illegal behaviour (a property test over fast-check's own programs, their
// shrinks included), and what an interpreted program does is what its scenario file says.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { programArb } from '../../../lib/explore/hunt/generate.js';
import { illegal, actorCode, entersXen, type DomuPolicy, type Program } from '../../../lib/explore/hunt/program.js';
import { interpret } from '../../../lib/explore/hunt/interp.js';
import type { ScenarioApi } from '../../../lib/scenario/scenario.js';
import * as regs from '../../../lib/hw/pci_regs.js';

/** A stand-in for the actor API that records calls and the vCPU's debt: a Xen action leaves work owed until resume. */
function recorder(): { x: ScenarioApi; calls: string[]; violations: string[] } {
  const calls: string[] = [], violations: string[] = [];
  let owed = false;
  const act = (name: string) => (...args: unknown[]): number => {
    if (owed) violations.push(`${name} while Xen still owes the vCPU work`);
    owed = true;
    calls.push(`${name}(${args.join(',')})`);
    return 0;
  };
  const x = {
    name: 'd0v0', domain: 0, dev: (i: number) => 0x18 + 8 * i,
    read: act('read'), write: act('write'), msixRead: act('msixRead'), msixWrite: act('msixWrite'), add: act('add'), remove: act('remove'), assign: act('assign'), deassign: act('deassign'),
    reset: act('reset'), mmcfgReserved: act('mmcfgReserved'), dequarantine: act('dequarantine'), quarantine: act('quarantine'), unmapBars: act('unmapBars'),
    resume: () => { owed = false; calls.push('resume'); },
    failNext: (w: string) => { calls.push(`failNext(${w})`); },
    regs: Object.fromEntries(Object.entries(regs).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
  } as unknown as ScenarioApi;
  return { x, calls, violations };
}

describe('hunt: generated programs are legal behaviour', function () {
  this.timeout(60_000);
  for (const policy of ['off', 'owned', 'detach'] as DomuPolicy[]) {
    it(`--domu ${policy}: every program and every shrink of it is legal`, () => {
      const arb = programArb({ domu: policy });
      let shrinks = 0;
      fc.assert(fc.property(arb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (p, pick) => {
        assert.deepEqual(illegal(p, policy), [], JSON.stringify(p));
        // fast-check's shrinks are what the hunt runs while shrinking: they must be legal too.
        const v = arb.generate(new fc.Random(xoroshiro128plus(pick)), undefined);
        assert.deepEqual(illegal(v.value, policy), [], JSON.stringify(v.value));
        for (const s of arb.shrink(v.value, v.context).take(10)) { shrinks++; assert.deepEqual(illegal(s.value, policy), [], JSON.stringify(s.value)); }
      }), { numRuns: 150, seed: 42 });
      assert.ok(shrinks > 400, `only ${shrinks} shrinks checked`);
    });
  }

  it('the checker refuses what the rules forbid (a control: illegal programs are caught)', () => {
    const base: Program = { devices: 2, absent: [], domu: [1], vcpus: [{ name: 'd0v0', actions: [{ op: 'read', dev: 0, reg: 'vendor' }] }, { name: 'd1v0', actions: [{ op: 'command', dev: 1, memory: true }] }] };
    assert.deepEqual(illegal(base, 'owned'), []);
    const bad: Array<[string, Program, DomuPolicy]> = [
      ['DomU hypercall', { ...base, vcpus: [base.vcpus[0], { name: 'd1v0', actions: [{ op: 'remove', dev: 1 }] }] }, 'owned'],
      ['DomU on a device it was not given', { ...base, vcpus: [base.vcpus[0], { name: 'd1v0', actions: [{ op: 'read', dev: 0, reg: 'vendor' }] }] }, 'owned'],
      ['Dom0 on the DomU device', { ...base, vcpus: [{ name: 'd0v0', actions: [{ op: 'command', dev: 1, memory: false }] }] }, 'owned'],
      ['forced detach under owned', { ...base, vcpus: [{ name: 'd0v0', actions: [{ op: 'deassign', dev: 1 }] }] }, 'owned'],
      ['access after assigning away', { ...base, vcpus: [{ name: 'd0v0', actions: [{ op: 'assign', dev: 0 }, { op: 'read', dev: 0, reg: 'bar0' }] }] }, 'owned'],
      ['access racing another vCPU\'s assign', { ...base, vcpus: [{ name: 'd0v0', actions: [{ op: 'assign', dev: 0 }] }, { name: 'd0v1', actions: [{ op: 'read', dev: 0, reg: 'bar0' }] }] }, 'owned'],
      ['DomU with --domu off', base, 'off'],
      ['MSI-X access without MSI-X', { ...base, vcpus: [{ name: 'd0v0', actions: [{ op: 'msix', dev: 0, entry: 0, access: 'mask' }] }] }, 'owned'],
      ['assign (pciback\'s reset) of the DomU\'s device', { ...base, vcpus: [{ name: 'd0v0', actions: [{ op: 'assign', dev: 1 }] }] }, 'owned'],
    ];
    for (const [what, p, pol] of bad) assert.notDeepEqual(illegal(p, pol), [], what);
  });

  it('a vCPU never acts while Xen owes it work: the interpreted actor resumes after every Xen action', () => {
    fc.assert(fc.property(programArb({ domu: 'detach' }), (p) => {
      for (const v of p.vcpus) {
        const r = recorder();
        interpret(v.name)(r.x, p);
        assert.deepEqual(r.violations, []);
        const assigns = v.actions.filter((a) => a.op === 'assign').length;   // each preceded by pciback's reset write
        assert.equal(r.calls.filter((c) => c !== 'resume' && !c.startsWith('failNext')).length, v.actions.filter(entersXen).length + assigns);
        assert.equal(actorCode(v.actions).length, v.actions.length);
      }
    }), { numRuns: 200, seed: 7 });
  });
});
