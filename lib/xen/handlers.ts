// Register callbacks as small integers, the way struct vpci_register stores function pointers: the number lives
// in shared memory, each thread maps it to its own copy of the function. Ids are fixed here, so every thread agrees.

export type ReadHandler = (pdev: number, reg: number, data: number) => number;
export type WriteHandler = (pdev: number, reg: number, val: number, data: number) => void;

export const H = {
  none: 0,
  // reads
  vpci_hw_read16: 1, vpci_hw_read32: 2,
  // writes
  cmd_write: 1, bar_write: 2, rom_write: 3,
  /** First id free for tests and scenarios (tools/tests/vpci style storage handlers). */
  user: 32,
} as const;

const readers: ReadHandler[] = [];
const writers: WriteHandler[] = [];

export function registerRead(id: number, fn: ReadHandler): void { readers[id] = fn; }
export function registerWrite(id: number, fn: WriteHandler): void { writers[id] = fn; }

/** vpci_ignored_read / vpci_ignored_write stand in for a missing callback (id 0). */
export function callRead(id: number, pdev: number, reg: number, data: number): number {
  if (id === H.none) return 0xffffffff;
  return readers[id](pdev, reg, data);
}
export function callWrite(id: number, pdev: number, reg: number, val: number, data: number): void {
  if (id === H.none) return;
  writers[id](pdev, reg, val, data);
}
