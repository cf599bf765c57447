// Addressing helpers with Xen's names. A pci_sbdf_t is one 32-bit number seg << 16 | bus << 8 | dev << 3 | fn;
// results are kept unsigned so segments >= 0x8000 stay positive and usable as Map keys.

export function PCI_SBDF(seg: number, bus: number, dev: number, fn: number): number {
  return (((seg & 0xffff) << 16) | ((bus & 0xff) << 8) | ((dev & 0x1f) << 3) | (fn & 7)) >>> 0;
}
export const sbdfSeg = (sbdf: number): number => sbdf >>> 16;
export const sbdfBus = (sbdf: number): number => (sbdf >>> 8) & 0xff;
export const sbdfDev = (sbdf: number): number => (sbdf >>> 3) & 0x1f;
export const sbdfFn = (sbdf: number): number => sbdf & 7;
/** The 16-bit bdf (bus << 8 | devfn), i.e. the sbdf of segment 0. */
export const sbdfBdf = (sbdf: number): number => sbdf & 0xffff;

/** "0000:00:03.0", as Xen's %pp prints a pci_sbdf_t. */
export function sbdfName(sbdf: number): string {
  const h = (v: number, w: number): string => v.toString(16).padStart(w, '0');
  return `${h(sbdfSeg(sbdf), 4)}:${h(sbdfBus(sbdf), 2)}:${h(sbdfDev(sbdf), 2)}.${sbdfFn(sbdf)}`;
}

// ECAM: 4 KiB of config space per function, 1 MiB per bus, a 256 MiB window per segment (F.6).
export const ECAM_WINDOW_SIZE = 1 << 28;
/** vpci.h L21: the bdf an ECAM window offset addresses. */
export const VPCI_ECAM_BDF = (off: number): number => (off & 0x0ffff000) >>> 12;
/** xen/include/xen/pci.h: the register an ECAM window offset addresses. */
export const ECAM_REG_OFFSET = (off: number): number => off & 0xfff;
/** The inverse: window offset of (bus, dev, fn, reg) in segment 0. */
export function ECAM_OFFSET(bus: number, dev: number, fn: number, reg: number): number {
  return ((bus & 0xff) << 20) | ((dev & 0x1f) << 15) | ((fn & 7) << 12) | (reg & 0xfff);
}
