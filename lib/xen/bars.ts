// struct vpci_bar as both generations lay it out inside struct vpci (header.bars[i]): the accessors every BAR user
// shares. HEAD adds guest_addr and a rangeset per BAR; the words read here are the same.

import { M } from '../mem/machine.js';
import { BAR, BAR_WORDS, VPCI, VPCI_BAR_MEM32, VPCI_BAR_MEM64_LO, VPCI_BAR_ROM, XEN_PAGE_SHIFT } from './types.js';

export const bar = (vpci: number, i: number): number => vpci + VPCI.bars + i * BAR_WORDS;
export const addrOf = (b: number): number => (M[b + BAR.addr_hi] >>> 0) * 2 ** 32 + (M[b + BAR.addr_lo] >>> 0);
export const sizeOf = (b: number): number => (M[b + BAR.size_hi] >>> 0) * 2 ** 32 + (M[b + BAR.size_lo] >>> 0);
export const setAddr = (b: number, a: number): void => { M[b + BAR.addr_lo] = a % 2 ** 32; M[b + BAR.addr_hi] = Math.floor(a / 2 ** 32); };
// A power of two computed once: `2 ** shift` of a variable shift is a call to pow on every use (1.3% of a CPU worker).
const PAGE_SIZE = 2 ** XEN_PAGE_SHIFT;
export const PFN_DOWN = (a: number): number => Math.floor(a / PAGE_SIZE);
export const MAPPABLE_BAR = (b: number): boolean => {
  const t = M[b + BAR.type];
  return t === VPCI_BAR_MEM32 || t === VPCI_BAR_MEM64_LO || t === VPCI_BAR_ROM;
};
/** Frames [start, end] a BAR covers. */
export const barFrames = (b: number): [number, number] => [PFN_DOWN(addrOf(b)), PFN_DOWN(addrOf(b) + sizeOf(b) - 1)];
