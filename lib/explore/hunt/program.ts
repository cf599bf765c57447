// A hunt program: what a few vCPUs of Dom0 and one DomU do, as data. It is run by an interpreter during the hunt
// and written out as an ordinary scenario file for a finding; both go through one function per action kind that
// turns the action into a line of scenario code, so what the hunt ran and what the file says cannot drift apart.
//
// New action kinds (MSI-X table entries, once the model has them) are one entry in ACTION_KINDS: a statement and,
// in generate.ts, an arbitrary.

import { deviceBase } from '../../lab/workload.js';

export type ConfigReg = 'command' | 'vendor' | 'bar0' | 'bar1' | 'rom';
export type BarValue = 'home' | 'moved' | 'sizing';
export type RomValue = 'off' | 'on' | 'moved' | 'sizing';
export type Hypercall = 'add' | 'remove' | 'assign' | 'deassign' | 'reset' | 'quarantine' | 'dequarantine' | 'unmap';
/** The fault points a program can script (x.failNext): IOMMU setup, p2m (un)mapping, each vPCI init hook. */
export type FaultWhat = 'iommu' | 'map' | 'init_msix' | 'init_bars' | 'init_msi';
export type MsixAccess = 'read' | 'addr' | 'data' | 'mask' | 'unmask';

export type Action =
  | { op: 'read'; dev: number; reg: ConfigReg }
  | { op: 'command'; dev: number; memory: boolean }
  | { op: 'bar'; dev: number; bar: 0 | 1; value: BarValue }
  | { op: 'rom'; dev: number; value: RomValue }
  | { op: 'msix'; dev: number; entry: 0 | 1; access: MsixAccess }
  | { op: 'msi'; dev: number; enable: boolean }
  | { op: Hypercall; dev: number }
  | { op: 'mmcfg' }
  | { op: 'fail'; what: FaultWhat };

export interface VcpuProgram { name: string; actions: Action[] }

export interface Program {
  /** Devices in the hardware (1-2). */
  devices: number;
  /** Devices Xen does not know at boot (a Dom0 `add` brings them in). */
  absent: number[];
  /** Devices the toolstack assigned to the DomU (domain 1) before the DomU started. */
  domu: number[];
  /** Devices have an MSI-X capability (table and PBA in BAR0); only then do programs touch table entries. */
  msix?: boolean;
  /** Devices have an MSI capability (at 0x50, lib/hw MSI_CAP_POS); only then do programs enable or disable MSI. */
  msi?: boolean;
  /** One entry per acting vCPU, Dom0's first: d0v0, d0v1, ..., then d1v0, ... */
  vcpus: VcpuProgram[];
}

/** What a DomU may do with a device it was given: 'owned' keeps it for the whole program; 'detach' lets Dom0's
 *  toolstack deassign or remove it meanwhile (a forced `xl pci-detach -f` the guest is not told about in time). */
export type DomuPolicy = 'off' | 'owned' | 'detach';

export const HYPERCALLS: readonly Hypercall[] = ['add', 'remove', 'assign', 'deassign', 'reset', 'quarantine', 'dequarantine', 'unmap'];
/** The toolstack's device moves: one vCPU per device does them, since only it knows who owns the device. */
export const isMove = (op: string): boolean => op === 'assign' || op === 'deassign' || op === 'quarantine' || op === 'dequarantine' || op === 'unmap';
/** Hypercalls that take a device from under its DomU (forced detach: only under --domu detach). */
export const isForced = (op: string): boolean => op === 'remove' || op === 'deassign' || op === 'reset' || op === 'unmap';
/** Dom0-only actions without a device. */
export const isDom0Only = (a: Action): boolean => isHypercall(a) || a.op === 'mmcfg';

/**
 * Every entry point of the actor API (lib/scenario's ScenarioApi: the model's hypercalls and guest accesses) and
 * the action kinds that reach it; test/lib/explore/hunt-complete.test.ts fails when the API gains one that no kind reaches.
 */
export const ENTRY_POINTS: Readonly<Record<string, readonly Action['op'][]>> = {
  read: ['read', 'bar', 'rom'], write: ['command', 'bar', 'rom', 'msi', 'assign'], msixRead: ['msix'], msixWrite: ['msix'],
  add: ['add'], remove: ['remove'], assign: ['assign'], deassign: ['deassign'], reset: ['reset'], mmcfgReserved: ['mmcfg'],
  dequarantine: ['dequarantine'], quarantine: ['quarantine'], unmapBars: ['unmap'], failNext: ['fail'],
};
/** What the actor API has besides entry points (identity, helpers, the return to the guest every action ends with). */
export const NOT_ENTRY_POINTS = ['name', 'domain', 'dev', 'regs', 'resume'];
export const isHypercall = (a: Action): a is { op: Hypercall; dev: number } => (HYPERCALLS as readonly string[]).includes(a.op);
/** Actions that enter Xen (everything but a lab fault); each is followed by a return to the guest. */
export const entersXen = (a: Action): boolean => a.op !== 'fail';
export const domainOf = (name: string): number => Number(/^d(\d+)v/.exec(name)?.[1] ?? 0);

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const dev = (i: number): string => `x.dev(${i})`;
const REG: Record<ConfigReg, [string, 2 | 4]> = {
  command: ['PCI_COMMAND', 2], vendor: ['PCI_VENDOR_ID', 4], bar0: ['PCI_BASE_ADDRESS_0', 4], bar1: ['PCI_BASE_ADDRESS_1', 4], rom: ['PCI_ROM_ADDRESS', 4],
};
/** Offsets inside a device's 1 MiB slice (stress/machine.ts): BAR0 64 KiB at 0, BAR1 16 KiB at 0x40000, ROM 32 KiB at 0x80000. */
const BAR_AT: Record<0 | 1, Record<Exclude<BarValue, 'sizing'>, number>> = { 0: { home: 0, moved: 0x20000 }, 1: { home: 0x40000, moved: 0x50000 } };
const ROM_AT = { home: 0x80000, moved: 0xa0000 } as const;

/** The value a BAR or ROM write puts on the bus, and a few words saying what it is. */
export function writeValue(a: Action): [number, string] {
  if (a.op === 'bar') {
    if (a.value === 'sizing') return [0xffffffff, 'sizing: all ones'];
    return [deviceBase(a.dev) + BAR_AT[a.bar][a.value], a.value === 'home' ? 'boot address' : 'moved'];
  }
  if (a.op === 'rom') {
    if (a.value === 'sizing') return [0xfffffffe, 'sizing: all ones, enable clear'];
    const addr = deviceBase(a.dev) + (a.value === 'moved' ? ROM_AT.moved : ROM_AT.home);
    return [(addr | (a.value === 'off' ? 0 : 1)) >>> 0, a.value === 'off' ? 'disabled' : a.value === 'on' ? 'enabled' : 'moved, enabled'];
  }
  throw new Error(`no write value for ${a.op}`);
}

/** One statement of scenario code for an action (without the return to the guest), and a note on its value. */
export function statement(a: Action): { code: string; note?: string } {
  switch (a.op) {
    case 'read': { const [r, size] = REG[a.reg]; return { code: `x.read(${dev(a.dev)}, x.regs.${r}, ${size});` }; }
    case 'command': return { code: `x.write(${dev(a.dev)}, x.regs.PCI_COMMAND, 2, ${a.memory ? 'x.regs.PCI_COMMAND_MEMORY' : '0'});` };
    case 'bar': { const [v, note] = writeValue(a); return { code: `x.write(${dev(a.dev)}, x.regs.${REG[a.bar === 0 ? 'bar0' : 'bar1'][0]}, 4, ${hex(v)});`, note }; }
    case 'rom': { const [v, note] = writeValue(a); return { code: `x.write(${dev(a.dev)}, x.regs.PCI_ROM_ADDRESS, 4, ${hex(v)});`, note: `ROM ${note}` }; }
    case 'msix': return msixStatement(a);
    case 'add': return { code: `x.add(${dev(a.dev)});` };
    case 'remove': return { code: `x.remove(${dev(a.dev)});` };
    // The toolstack hands over a reset device (pciback resets it first): decoding off, then the hypercall.
    case 'assign': return { code: `x.write(${dev(a.dev)}, x.regs.PCI_COMMAND, 2, 0); x.resume(); x.assign(1, ${dev(a.dev)});`, note: 'reset by pciback, then assigned' };
    case 'deassign': return { code: `x.deassign(1, ${dev(a.dev)});` };
    case 'reset': return { code: `x.reset(${dev(a.dev)});`, note: 'PHYSDEVOP_pci_device_reset' };
    case 'quarantine': return { code: `x.quarantine(${dev(a.dev)});`, note: 'xl pci-assignable-add: to dom_io, pdev->quarantine set' };
    case 'dequarantine': return { code: `x.dequarantine(${dev(a.dev)});`, note: 'xl pci-assignable-remove: back from dom_io' };
    case 'unmap': return { code: `x.unmapBars(1, ${dev(a.dev)});`, note: 'the toolstack removes the BARs from the DomU p2m' };
    case 'mmcfg': return { code: 'x.mmcfgReserved();', note: 'PHYSDEVOP_pci_mmcfg_reserved' };
    case 'msi': return { code: `x.write(${dev(a.dev)}, 0x50 + x.regs.PCI_MSI_FLAGS, 2, ${a.enable ? 'x.regs.PCI_MSI_FLAGS_ENABLE' : '0'});`, note: `MSI ${a.enable ? 'enabled' : 'disabled'} (capability at 0x50)` };
    case 'fail': return { code: `x.failNext('${a.what}');`, note: `the next ${FAIL_NOTE[a.what]} fails` };
  }
}

const FAIL_NOTE: Record<FaultWhat, string> = {
  iommu: 'iommu_add_device', map: 'map_mmio_regions', init_msix: 'init_msix', init_bars: 'init_bars (HEAD: vpci_init_header)', init_msi: 'init_msi',
};

const MSIX_WRITE: Record<Exclude<MsixAccess, 'read'>, [string, number, string]> = {
  addr: ['LOWER_ADDR', 0xfee00000, 'message address'], data: ['DATA', 0x4021, 'message data'],
  mask: ['VECTOR_CTRL', 1, 'masked'], unmask: ['VECTOR_CTRL', 0, 'unmasked'],
};

function msixStatement(a: Extract<Action, { op: 'msix' }>): { code: string; note?: string } {
  if (a.access === 'read') return { code: `x.msixRead(${dev(a.dev)}, ${a.entry}, x.regs.PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET);` };
  const [field, value, note] = MSIX_WRITE[a.access];
  return { code: `x.msixWrite(${dev(a.dev)}, ${a.entry}, x.regs.PCI_MSIX_ENTRY_${field}_OFFSET, ${hex(value)});`, note: `MSI-X entry ${a.entry} ${note}` };
}

/** One vCPU's actor as executable statements: every action that enters Xen is followed by the return to the guest,
 *  so the vCPU never acts while Xen still owes it deferred work (Xen does not return to the guest before that). */
export function actorCode(actions: readonly Action[]): string[] {
  return actions.map((a) => { const { code } = statement(a); return entersXen(a) ? `${code} x.resume();` : code; });
}

/** The same lines with their notes, for a scenario file a person reads. */
export function actorLines(actions: readonly Action[]): string[] {
  const code = actorCode(actions);
  return actions.map((a, i) => { const { note } = statement(a); return note ? `${code[i]}   // ${note}` : code[i]; });
}

/** The scenario machine of a program: Dom0 with its acting vCPUs, one DomU (always there, so assign has a target). */
export interface ProgramMachine { vcpus: number[]; devices: number; boot: number[]; assigned?: Record<number, number[]>; msix?: true; msi?: true; vpciGuestSupport?: true }

/** DomU vCPUs act only with the v4/v5 series' DomU vPCI (CONFIG_HAS_VPCI_GUEST_SUPPORT), which such a program
 *  turns on; without DomU activity the machine is Xen's own: vPCI for the hardware domain only. */
export function programMachine(p: Program): ProgramMachine {
  const count = (d: number): number => p.vcpus.filter((v) => domainOf(v.name) === d).length;
  const boot = Array.from({ length: p.devices }, (_, i) => i).filter((i) => !p.absent.includes(i));
  return { vcpus: [Math.max(1, count(0)), Math.max(1, count(1))], devices: p.devices, boot, ...(p.domu.length ? { assigned: { 1: [...p.domu] } } : {}), ...(p.msix ? { msix: true as const } : {}),
    ...(p.msi ? { msi: true as const } : {}), ...(p.domu.length ? { vpciGuestSupport: true as const } : {}) };
}

/** Why a program is not legal behaviour (empty if it is). The generator's property test checks this. */
export function illegal(p: Program, policy: DomuPolicy): string[] {
  const out: string[] = [];
  if (p.devices < 1 || p.devices > 2) out.push(`devices ${p.devices}`);
  if (p.vcpus.length < 1 || p.vcpus.length > 4) out.push(`${p.vcpus.length} vCPUs`);
  if (p.domu.some((i) => p.absent.includes(i) || i >= p.devices)) out.push('a DomU device that is not present at boot');
  if (policy === 'off' && (p.domu.length || p.vcpus.some((v) => domainOf(v.name) !== 0))) out.push('DomU activity with --domu off');
  const names = p.vcpus.map((v) => v.name);
  for (const d of [0, 1]) {
    const mine = names.filter((n) => domainOf(n) === d);
    if (mine.some((n, i) => n !== `d${d}v${i}`)) out.push(`vCPU names of d${d} not dense: ${mine.join(',')}`);
  }
  const movers = new Map<number, Set<string>>();   // device -> vCPUs that assign or deassign it
  for (const v of p.vcpus) for (const a of v.actions) if ('dev' in a && isMove(a.op)) movers.set(a.dev, (movers.get(a.dev) ?? new Set()).add(v.name));
  for (const [k, who] of movers) if (who.size > 1) out.push(`device ${k} is assigned/deassigned by ${[...who].join(' and ')}: its owner is unknown to both`);
  for (const v of p.vcpus) {
    const d = domainOf(v.name);
    if (v.actions.length < 1 || v.actions.length > 6) out.push(`${v.name} has ${v.actions.length} actions`);
    let givenAway = new Set<number>();
    for (const a of v.actions) {
      if (a.op === 'mmcfg' && d !== 0) out.push(`${v.name}: mmcfg is a Dom0-only hypercall`);
      if (!('dev' in a)) continue;
      if (a.dev < 0 || a.dev >= p.devices) out.push(`${v.name}: device ${a.dev}`);
      if (isHypercall(a)) {
        if (d !== 0) out.push(`${v.name}: ${a.op} is a Dom0-only hypercall`);
        if (policy !== 'detach' && isForced(a.op) && p.domu.includes(a.dev)) out.push(`${v.name}: ${a.op} of the DomU's device under policy ${policy}`);
        if (a.op === 'assign' && (p.domu.includes(a.dev) || givenAway.has(a.dev))) out.push(`${v.name}: assign resets device ${a.dev}, which is the DomU's`);
        if (a.op === 'assign') givenAway.add(a.dev);
        if (a.op === 'deassign' || a.op === 'remove') givenAway = new Set([...givenAway].filter((k) => k !== a.dev));
        continue;
      }
      if (a.op === 'msix' && !p.msix) out.push(`${v.name}: an MSI-X access on a machine without MSI-X`);
      if (a.op === 'msi' && !p.msi) out.push(`${v.name}: an MSI write on a machine without MSI`);
      if (d !== 0 && !p.domu.includes(a.dev)) out.push(`${v.name}: touches device ${a.dev}, which the DomU was never given`);
      if (d === 0 && p.domu.includes(a.dev)) out.push(`${v.name}: touches device ${a.dev}, the DomU's since boot`);
      if (d === 0 && movers.has(a.dev) && !movers.get(a.dev)!.has(v.name)) out.push(`${v.name}: touches device ${a.dev}, which another vCPU may have assigned to the DomU`);
      if (d === 0 && givenAway.has(a.dev)) out.push(`${v.name}: touches device ${a.dev} after assigning it to the DomU`);
    }
  }
  return out;
}

export function actionCount(p: Program): number { return p.vcpus.reduce((n, v) => n + v.actions.length, 0); }
