// Emulated PCI hardware: ECAM config space of type-0 functions with BARs, ROM and COMMAND, all in the machine's
// shared memory. Describe it (desc.ts), size the machine (hwWords), power it on from the main thread (initHw),
// then any attached thread accesses it (config.ts, ecam.ts) and asks which frames it decodes (frames.ts).
export * from './pci_regs.js';
export * from './sbdf.js';
export * from './desc.js';
export { HW_REGION, hwWords, hwRegions } from './layout.js';
export { initHw } from './init.js';
export { hwFunctions } from './lookup.js';
export * from './config.js';
export * from './ecam.js';
export * from './frames.js';
export * from './msix.js';
