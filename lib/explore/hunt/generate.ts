// fast-check arbitraries for hunt programs. Raw values are drawn freely and then made legal by one deterministic
// map (legalize), so fast-check's own shrinkers work on the raw value and every shrunk program is legal too:
// fewer vCPUs and actions come from array shrinking, simpler values from constantFrom shrinking to its first entry.

import fc from 'fast-check';
import { isHypercall, isMove, isForced, type Action, type DomuPolicy, type Program, type VcpuProgram } from './program.js';

type Boot = 'dom0' | 'absent' | 'domu';
interface RawVcpu { domu: boolean; actions: Action[] }
interface RawProgram { devices: number; boot: Boot[]; msix: boolean; msi?: boolean; vcpus: RawVcpu[] }

const dev = fc.nat({ max: 1 });

/** Action kinds and how often they are drawn. Another kind is one more entry here and one more case in program.ts'
 *  statement(). `dom0` marks what only Dom0 may do (the hypercalls). MSI-X accesses appear only in programs whose
 *  machine has MSI-X. */
export const ACTION_KINDS: Array<{ name: string; weight: number; dom0?: boolean; arbitrary: fc.Arbitrary<Action> }> = [
  { name: 'command', weight: 4, arbitrary: fc.record({ op: fc.constant('command' as const), dev, memory: fc.boolean() }) },
  { name: 'bar', weight: 3, arbitrary: fc.record({ op: fc.constant('bar' as const), dev, bar: fc.constantFrom(0 as const, 1 as const), value: fc.constantFrom('home' as const, 'moved' as const, 'sizing' as const) }) },
  { name: 'rom', weight: 1, arbitrary: fc.record({ op: fc.constant('rom' as const), dev, value: fc.constantFrom('off' as const, 'on' as const, 'moved' as const, 'sizing' as const) }) },
  { name: 'msix', weight: 2, arbitrary: fc.record({ op: fc.constant('msix' as const), dev, entry: fc.constantFrom(0 as const, 1 as const), access: fc.constantFrom('read' as const, 'addr' as const, 'data' as const, 'mask' as const, 'unmask' as const) }) },
  { name: 'read', weight: 1, arbitrary: fc.record({ op: fc.constant('read' as const), dev, reg: fc.constantFrom('vendor' as const, 'command' as const, 'bar0' as const, 'bar1' as const, 'rom' as const) }) },
  { name: 'msi', weight: 1, arbitrary: fc.record({ op: fc.constant('msi' as const), dev, enable: fc.boolean() }) },
  { name: 'hypercall', weight: 4, dom0: true, arbitrary: fc.record({ op: fc.constantFrom('remove' as const, 'add' as const, 'deassign' as const, 'assign' as const), dev }) },
  { name: 'device-op', weight: 1, dom0: true, arbitrary: fc.record({ op: fc.constantFrom('reset' as const, 'quarantine' as const, 'dequarantine' as const, 'unmap' as const), dev }) },
  { name: 'mmcfg', weight: 1, dom0: true, arbitrary: fc.constant({ op: 'mmcfg' as const }) },
  { name: 'fail', weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), what: fc.constantFrom('map' as const, 'iommu' as const, 'init_msix' as const, 'init_bars' as const, 'init_msi' as const) }) },
];

export interface GenOptions { domu: DomuPolicy; minVcpus?: number; maxVcpus?: number; maxActions?: number }

export function rawProgramArb(o: GenOptions): fc.Arbitrary<RawProgram> {
  const action = fc.oneof(...ACTION_KINDS.map((k) => ({ weight: k.weight, arbitrary: k.arbitrary })));
  return fc.record({
    devices: fc.integer({ min: 1, max: 2 }),
    msix: fc.boolean(),
    msi: fc.boolean(),
    boot: fc.tuple(fc.constantFrom<Boot>('dom0', 'absent', 'domu'), fc.constantFrom<Boot>('dom0', 'absent', 'domu')),
    vcpus: fc.array(fc.record({ domu: fc.boolean(), actions: fc.array(action, { minLength: 1, maxLength: o.maxActions ?? 6 }) }),
      { minLength: o.minVcpus ?? 2, maxLength: o.maxVcpus ?? 4 }),
  });
}

/** Make a raw program legal (see program.ts' illegal()): hypercalls only from Dom0; a DomU only on devices it was
 *  given at boot, not taken away under policy 'owned'; Dom0 only on devices that are not the DomU's at that moment
 *  (its toolstack vCPU for a device knows when it assigned it; no other vCPU can); dense vCPU names. */
export function legalize(r: RawProgram, policy: DomuPolicy): Program {
  const devices = r.devices;
  const boot = r.boot.slice(0, devices).map((b) => (b === 'domu' && policy === 'off' ? 'dom0' : b));
  const domu = boot.flatMap((b, i) => (b === 'domu' ? [i] : []));
  const absent = boot.flatMap((b, i) => (b === 'absent' ? [i] : []));
  const asDomU = r.vcpus.map((v) => v.domu && domu.length > 0);
  const resolve = (a: Action, vi: number): Action => ('dev' in a ? { ...a, dev: asDomU[vi] ? domu[a.dev % domu.length] : a.dev % devices } : a);
  const raw = r.vcpus.map((v, vi) => v.actions.map((a) => resolve(a, vi)));
  // The toolstack vCPU of a device: the first Dom0 vCPU that assigns or deassigns it; nobody else does.
  const toolstack = new Map<number, number>();
  raw.forEach((acts, vi) => { if (!asDomU[vi]) for (const a of acts) if ('dev' in a && isMove(a.op) && !toolstack.has(a.dev)) toolstack.set(a.dev, vi); });
  const dom0: Action[][] = [], domU: Action[][] = [];
  raw.forEach((acts, vi) => {
    const assigned = new Set<number>();
    const actions = acts.filter((a) => {
      if (!('dev' in a)) return !(asDomU[vi] && a.op === 'mmcfg');
      if (a.op === 'msix' && !r.msix) return false;
      if (a.op === 'msi' && !r.msi) return false;
      if (asDomU[vi]) return !isHypercall(a);
      if (isMove(a.op) && toolstack.get(a.dev) !== vi) return false;
      // assign starts with pciback's reset write: not on the DomU's device, nor on one already given away.
      if (domu.includes(a.dev)) return isHypercall(a) && a.op !== 'assign' && (policy === 'detach' || !isForced(a.op));
      if (a.op === 'assign' && assigned.has(a.dev)) return false;
      if (isMove(a.op)) {
        if (a.op === 'assign') assigned.add(a.dev); else if (a.op === 'deassign') assigned.delete(a.dev);
        return true;
      }
      if (a.op === 'remove') { assigned.delete(a.dev); return true; }
      if (a.op === 'add' || a.op === 'reset') return true;
      return !toolstack.has(a.dev) || (toolstack.get(a.dev) === vi && !assigned.has(a.dev));
    });
    if (actions.length) (asDomU[vi] ? domU : dom0).push(actions);
  });
  // Every raw action may have been dropped: fall back to one harmless read so the program still runs.
  if (dom0.length + domU.length === 0) (domu.includes(0) ? domU : dom0).push([{ op: 'read', dev: 0, reg: 'vendor' }]);
  const vcpus: VcpuProgram[] = [
    ...dom0.map((actions, i) => ({ name: `d0v${i}`, actions })),
    ...domU.map((actions, i) => ({ name: `d1v${i}`, actions })),
  ];
  return { devices, absent, domu, vcpus, ...(r.msix ? { msix: true } : {}), ...(r.msi ? { msi: true } : {}) };
}

export function programArb(o: GenOptions): fc.Arbitrary<Program> {
  return rawProgramArb(o).map((r) => legalize(r, o.domu));
}
