// Power-on: the main thread writes every function's reset state, writable masks and BAR facts into the machine's
// 'pci' region before any worker starts. A machine is one trial, so the hardware is initialised exactly once.

import type { Machine } from '../mem/machine.js';
import type { HwDesc, PciFunctionDesc, SlotPlan } from './desc.js';
import { planSlots, validateHwDesc, BAR_IO, BAR_MEM32, BAR_MEM64_LO, BAR_MEM64_HI, BAR_ROM, ROM_SLOT, MSIX_CAP_POS, MSI_CAP_POS, MSIX_MAX_ENTRIES, type MsixDesc } from './desc.js';
import { HW_REGION, HW_MAGIC, HW_COUNT, HW_TABLE, FN_WMASK, FN_SLOTS, SLOT_WORDS, SLOT, FN_WORDS, FN_MSIX_TABLE, hwWords } from './layout.js';
import {
  PCI_VENDOR_ID, PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_CLASS_REVISION, PCI_CACHE_LINE_SIZE, PCI_HEADER_TYPE_NORMAL,
  PCI_HEADER_TYPE_MULTIFUNC, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE, PCI_INTERRUPT_LINE, PCI_STATUS_CAP_LIST,
  PCI_CAPABILITY_LIST, PCI_CAP_ID_MSIX, PCI_MSIX_TABLE, PCI_MSIX_PBA, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_VECTOR_BITMASK, PCI_CAP_ID_MSI, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_32,
} from './pci_regs.js';

const TWO32 = 2 ** 32;

// Writable bits per header dword. COMMAND: every defined bit (RSVDP reads 0); STATUS read-only (no error or
// interrupt source is modelled, so its RW1C bits would never be set); cache line size, latency timer and interrupt
// line are plain scratch bytes as on real devices; BARs/ROM get their size-dependent masks below; all else reads
// back as initialised.
const COMMAND_WMASK = 0x07ff;
const CL_LAT_WMASK = 0x0000ffff;
const INTLINE_WMASK = 0x000000ff;

/** A BAR's writable bits, low and high dword: the address bits at or above its size. */
function barMasks(s: SlotPlan): [lo: number, hi: number] {
  const sizeHi = Math.floor(s.size / TWO32);
  const lo = sizeHi > 0 ? 0 : (~(s.size - 1)) >>> 0;
  const hi = sizeHi > 0 ? (~(sizeHi - 1)) >>> 0 : 0xffffffff;
  switch (s.kind) {
    case BAR_IO: return [(lo & 0xfffffffc) >>> 0, 0];
    case BAR_MEM32: return [(lo & 0xfffffff0) >>> 0, 0];
    case BAR_MEM64_LO: return [(lo & 0xfffffff0) >>> 0, hi];
    case BAR_ROM: return [((lo & 0xfffff800) | PCI_ROM_ADDRESS_ENABLE) >>> 0, 0];
    default: return [0, 0];
  }
}

/** Read-only low bits a BAR reports whatever is written: space, type, prefetchable. */
function barTypeBits(s: SlotPlan): number {
  switch (s.kind) {
    case BAR_IO: return PCI_BASE_ADDRESS_SPACE_IO;
    case BAR_MEM32: return s.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
    case BAR_MEM64_LO: return PCI_BASE_ADDRESS_MEM_TYPE_64 | (s.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    default: return 0;
  }
}

/**
 * The MSI-X capability: ID, next = 0 (the only one), Message Control with table size - 1 and only ENABLE and
 * MASKALL writable, then the read-only table and PBA offset|BIR registers. Every table entry resets masked.
 */
function writeMsix(m: Int32Array, fb: number, x: MsixDesc): void {
  m[fb + (PCI_CAPABILITY_LIST >> 2)] = MSIX_CAP_POS;
  m[fb + 1] |= PCI_STATUS_CAP_LIST << 16;
  const cap = fb + (MSIX_CAP_POS >> 2);
  m[cap] = PCI_CAP_ID_MSIX | ((x.entries - 1) << 16);
  m[fb + FN_WMASK + (MSIX_CAP_POS >> 2)] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) << 16;
  m[cap + (PCI_MSIX_TABLE >> 2)] = x.tableOffset | x.tableBar;
  m[cap + (PCI_MSIX_PBA >> 2)] = x.pbaOffset | x.pbaBar;
  for (let i = 0; i < MSIX_MAX_ENTRIES; i++) m[fb + FN_MSIX_TABLE + i * 4 + 3] = PCI_MSIX_VECTOR_BITMASK;
}

/**
 * The MSI capability, linked after MSI-X when the function has both: Message Control with one vector capable and
 * only ENABLE and the Multiple Message Enable field writable, a 32-bit address (dword aligned) and 16-bit data.
 */
function writeMsi(m: Int32Array, fb: number): void {
  const ptr = m[fb + (MSIX_CAP_POS >> 2)] & 0xff ? fb + (MSIX_CAP_POS >> 2) : -1;
  if (ptr >= 0) m[ptr] |= MSI_CAP_POS << 8;                      // MSI-X's next pointer
  else { m[fb + (PCI_CAPABILITY_LIST >> 2)] = MSI_CAP_POS; m[fb + 1] |= PCI_STATUS_CAP_LIST << 16; }
  m[fb + (MSI_CAP_POS >> 2)] = PCI_CAP_ID_MSI;
  m[fb + FN_WMASK + (MSI_CAP_POS >> 2)] = (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE) << 16;
  m[fb + FN_WMASK + ((MSI_CAP_POS + PCI_MSI_ADDRESS_LO) >> 2)] = 0xfffffffc | 0;
  m[fb + FN_WMASK + ((MSI_CAP_POS + PCI_MSI_DATA_32) >> 2)] = 0xffff;
}

function writeFunction(m: Int32Array, fb: number, f: PciFunctionDesc, multifunction: boolean): void {
  const cfg = (reg: number, v: number): void => { m[fb + (reg >> 2)] = v | 0; };
  const wmask = (reg: number, v: number): void => { m[fb + FN_WMASK + (reg >> 2)] = v | 0; };
  cfg(PCI_VENDOR_ID, f.vendor | (f.device << 16));
  cfg(PCI_COMMAND, f.memoryDecoding ? PCI_COMMAND_MEMORY : 0);
  wmask(PCI_COMMAND, COMMAND_WMASK);
  cfg(PCI_CLASS_REVISION, ((f.classCode ?? 0) & 0xffffff) << 8 | ((f.revision ?? 0) & 0xff));
  cfg(PCI_CACHE_LINE_SIZE, (PCI_HEADER_TYPE_NORMAL | (multifunction ? PCI_HEADER_TYPE_MULTIFUNC : 0)) << 16);
  wmask(PCI_CACHE_LINE_SIZE, CL_LAT_WMASK);
  wmask(PCI_INTERRUPT_LINE, INTLINE_WMASK);

  const slots = planSlots(f);
  slots.forEach((s, i) => {
    const sb = fb + FN_SLOTS + i * SLOT_WORDS;
    m[sb + SLOT.kind] = s.kind;
    m[sb + SLOT.sizeLo] = s.size % TWO32;
    m[sb + SLOT.sizeHi] = Math.floor(s.size / TWO32);
    if (s.kind === BAR_MEM64_HI) return; // programmed with its low half
    const reg = i === ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i;
    const [lo, hi] = barMasks(s);
    wmask(reg, lo);
    if (s.kind === BAR_ROM) { cfg(reg, s.addr | (s.enabled ? PCI_ROM_ADDRESS_ENABLE : 0)); return; }
    cfg(reg, (s.addr % TWO32) | barTypeBits(s));
    if (s.kind === BAR_MEM64_LO) { wmask(reg + 4, hi); cfg(reg + 4, Math.floor(s.addr / TWO32)); }
  });
  if (f.msix) writeMsix(m, fb, f.msix);
  if (f.msi) writeMsi(m, fb);
}

/** Write the power-on state of every described function into machine's 'pci' region. Throws on a bad description. */
export function initHw(machine: Machine, desc: HwDesc): void {
  validateHwDesc(desc);
  const r = machine.layout.regions[HW_REGION];
  if (!r) throw new Error(`machine has no '${HW_REGION}' region: createMachine({ regions: { ${HW_REGION}: hwWords(desc) } })`);
  if (r.words < hwWords(desc)) throw new RangeError(`'${HW_REGION}' region has ${r.words} words, hardware needs ${hwWords(desc)}`);
  const m = new Int32Array(machine.sab);
  if (m[r.base] === HW_MAGIC) throw new Error('hardware already initialised on this machine (one machine per trial)');
  const n = desc.functions.length;
  const devKey = (s: number): number => (s >>> 0) - (s & 7); // seg:bus:dev without fn
  const perDev = new Map<number, number>();
  for (const f of desc.functions) perDev.set(devKey(f.sbdf), (perDev.get(devKey(f.sbdf)) ?? 0) + 1);
  desc.functions.forEach((f, i) => {
    m[r.base + HW_TABLE + i] = f.sbdf | 0;
    writeFunction(m, r.base + HW_TABLE + n + i * FN_WORDS, f, perDev.get(devKey(f.sbdf))! > 1);
  });
  m[r.base + HW_COUNT] = n;
  Atomics.store(m, r.base, HW_MAGIC); // last: a thread that sees the magic sees the table
}

