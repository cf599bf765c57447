// The model's functions by Xen name, in one table that every call between model functions goes through. Xen's
// vpci.c reaches init_bars through its REGISTER_VPCI_INIT table rather than a direct call; the lab does the same
// for every function, so that
//   - a generation (lib/xen/l21, lib/xen/head) fills the table with its code, and shared files (hypercall.ts,
//     domain.ts, mmio.ts) call whichever generation the machine was booted with, without importing it;
//   - a patch (a built-in strategy or a user's file, lib/strategy/patch.ts) replaces any entry by its Xen name,
//     and its replacement can call the function it replaces.
// The table object is created once with every name, so its shape never changes and calls through it stay
// monomorphic property loads.

import type { GenerationCaps } from './caps.js';
import type { MmioData, PciDevPtr, VcpuPtr, DomainPtr, VpciPtr, VpciMsixPtr } from './types.js';

/**
 * Xen's own functions, by their names in Xen's C: what a generation of the model provides and what a compiled Xen
 * tree exports. A generation provides a subset; the rest throw if called.
 */
export interface XenFns {
  // ---- vpci.c
  vpci_read(sbdf: number, reg: number, size: number): number;
  vpci_write(sbdf: number, reg: number, size: number, data: number): void;
  vpci_read_hw(sbdf: number, reg: number, size: number): number;
  vpci_write_hw(sbdf: number, reg: number, size: number, data: number): void;
  vpci_add_register(vpci: VpciPtr, read: number, write: number, offset: number, size: number, data: number): number;
  vpci_remove_register(vpci: VpciPtr, offset: number, size: number): number;
  /** L21: publish pdev->vpci and run the init hooks. */
  vpci_add_handlers(pdev: PciDevPtr): number;
  /** L21: 0, or -ERESTART when removal must be retried through a hypercall continuation (the seed's proposal). */
  vpci_remove_device(pdev: PciDevPtr, before_free?: (pdev: PciDevPtr) => void): number;
  /** HEAD (f20dde9259): the replacements of vpci_add_handlers / vpci_remove_device; caller holds d->pci_lock. */
  vpci_assign_device(pdev: PciDevPtr): number;
  vpci_deassign_device(pdev: PciDevPtr): void;
  /** HEAD vpci.h:241-245: vpci_deassign_device then vpci_assign_device (PHYSDEVOP_pci_device_reset). */
  vpci_reset_device(pdev: PciDevPtr): number;
  /** HEAD vpci.c:265-324 (a3c8fb450a): registration with ro / rw1c / rsvdp / rsvdz masks. */
  vpci_add_register_mask(vpci: VpciPtr, read: number, write: number, offset: number, size: number, data: number,
    ro_mask: number, rw1c_mask: number, rsvdp_mask: number, rsvdz_mask: number): number;
  /** HEAD vpci.c:334-364 (8623318157): remove every register inside [start, start+size); -ERANGE on a straddler. */
  vpci_remove_registers(vpci: VpciPtr, start: number, size: number): number;
  // ---- header.c
  init_bars(pdev: PciDevPtr): number;
  vpci_init_header(pdev: PciDevPtr): number;
  cmd_write(pdev: PciDevPtr, reg: number, cmd: number): void;
  bar_write(pdev: PciDevPtr, reg: number, val: number, data: number): void;
  rom_write(pdev: PciDevPtr, reg: number, val: number, data: number): void;
  /** HEAD header.c:554-675: a DomU's view of COMMAND and of its BARs (guest addresses). */
  guest_cmd_read(pdev: PciDevPtr, reg: number, data: number): number;
  guest_mem_bar_read(pdev: PciDevPtr, reg: number, data: number): number;
  guest_mem_bar_write(pdev: PciDevPtr, reg: number, val: number, data: number): void;
  modify_bars(pdev: PciDevPtr, cmd: number, rom_only: boolean): number;
  modify_decoding(pdev: PciDevPtr, cmd: number, rom_only: boolean): void;
  /** L21 passes the rangeset; HEAD keeps it in the BARs (pass 0). */
  defer_map(pdev: PciDevPtr, mem: number, cmd: number, rom_only: boolean): void;
  /** HEAD passes the BAR (header.c:36-40 struct map_data): guest frame s maps to the BAR's host frame. */
  map_range(d: DomainPtr, map: boolean, s: number, e: number, consumed: { c: number }, bar?: number): number;
  /** L21's optional second argument is the failure policy (the FIXME) proposals change. */
  vpci_process_pending(v: VcpuPtr, on_failure?: (v: VcpuPtr, pdev: PciDevPtr) => void): boolean;
  // ---- msix.c: the capability's control register, the table/PBA MMIO intercept, the p2m hole
  init_msix(pdev: PciDevPtr): number;
  /** msi.c's init hook (L21: the last REGISTER_VPCI_INIT; HEAD: the MSI entry of cap.c's array, msi.c:257-334). */
  init_msi(pdev: PciDevPtr): number;
  /** HEAD msi.c:197-255: free vpci->msi; `hide` also drops its handlers and leaves Dom0 a read-only control. */
  cleanup_msi(pdev: PciDevPtr, hide: boolean): number;
  /** msix.c's control_read / control_write (msi.c's statics of the same names are called directly there); data = msix. */
  control_read(pdev: PciDevPtr, reg: number, msix: number): number;
  control_write(pdev: PciDevPtr, reg: number, val: number, msix: number): void;
  update_entry(entry: number, pdev: PciDevPtr, nr: number): void;
  /** The vpci_msix whose table or PBA covers addr in d's list, or NULL. */
  msix_find(d: DomainPtr, addr: number): VpciMsixPtr;
  msix_accept(v: VcpuPtr, addr: number): boolean;
  /** X86EMUL_OKAY or X86EMUL_RETRY; the value read is left in data. */
  msix_read(v: VcpuPtr, addr: number, len: number, data: MmioData): number;
  msix_write(v: VcpuPtr, addr: number, len: number, data: MmioData): number;
  vpci_make_msix_hole(pdev: PciDevPtr): number;
  /** HEAD msix.c:664-711: list_del from d->arch.hvm.msix_tables and free; `hide` leaves a read-only control. */
  cleanup_msix(pdev: PciDevPtr, hide: boolean): number;
  /** HEAD cap.c:288-390: the capability array's init / cleanup hooks (the lab's capabilities: MSI, MSI-X). */
  vpci_init_capabilities(pdev: PciDevPtr): number;
  vpci_cleanup_capabilities(pdev: PciDevPtr): void;
  /** HEAD cap.c:392-410: PHYSDEVOP_pci_mmcfg_reserved's re-init of a live pdev->vpci (under pcidevs_lock only). */
  vpci_reinit_ext_capabilities(pdev: PciDevPtr): number;
  /** HEAD cap.c:162-242: the emulated capability list (Dom0: every capability; a DomU: MSI and MSI-X only). */
  vpci_init_capability_list(pdev: PciDevPtr): number;
  /** HEAD cap.c:40-74: unlink capability `cap` from the emulated list after its init failed. */
  vpci_capability_hide(pdev: PciDevPtr, cap: number): number;
  // ---- arch/x86/hvm/vmsi.c: the arch hooks MSI-X emulation calls (entry = &msix->entries[nr])
  vpci_msix_arch_enable_entry(entry: number, pdev: PciDevPtr, table_base: number): number;
  vpci_msix_arch_disable_entry(entry: number, pdev: PciDevPtr): number;
  vpci_msix_arch_mask_entry(entry: number, pdev: PciDevPtr, mask: boolean): void;
  /** HEAD vmsi.c:828-979: MSI's arch hooks (msi = pdev->vpci->msi); enable/update/disable assert d->pci_lock. */
  vpci_msi_arch_enable(msi: number, pdev: PciDevPtr, vectors: number): number;
  vpci_msi_arch_disable(msi: number, pdev: PciDevPtr): void;
  vpci_msi_arch_update(msi: number, pdev: PciDevPtr): void;
  vpci_msi_arch_mask(msi: number, pdev: PciDevPtr, entry: number, mask: boolean): void;
  vpci_msi_arch_init(msi: number): void;
  // ---- arch/x86/hvm/hvm.c: the return to the guest (lib/xen/domain.ts)
  /** true when v may enter the guest, false when it must come back first (deferred vPCI work not finished). */
  hvm_do_resume(v: VcpuPtr): boolean;
  // ---- drivers/passthrough/pci.c
  pci_add_device(sbdf: number): number;
  pci_remove_device(sbdf: number): number;
  assign_device(d: DomainPtr, sbdf: number): number;
  deassign_device(d: DomainPtr, sbdf: number): number;
  iommu_add_device(pdev: PciDevPtr): number;
  pci_get_pdev(d: DomainPtr, sbdf: number, where: string): PciDevPtr;
  /** HEAD pci.c:436-467: list_del from alldevs_list, then xfree (caller holds pcidevs_lock). */
  free_pdev(pdev: PciDevPtr): void;
  // ---- drivers/pci/physdev.c, x86/physdev.c (HEAD): the sub-ops' bodies, so a backend can run them as a whole
  /** PHYSDEVOP_pci_device_reset (physdev.c:97-120): lookup under pcidevs_lock, the owner's pci_lock, vpci_reset_device. */
  physdev_pci_device_reset(sbdf: number): number;
  /** PHYSDEVOP_pci_mmcfg_reserved (x86/physdev.c:529-550): pci_segments_iterate with physdev_check_pci_extcfg. */
  physdev_pci_mmcfg_reserved(): number;
}

/**
 * The lab's own seams, not Xen functions: where the 2021 proposals add locking around otherwise unchanged L21 code.
 * Empty in L21 (pci_get_pdev is L21's unlocked alldevs_list walk, vpci_lock is spin_lock(&pdev->vpci->lock)).
 */
export interface LabSeams {
  vpci_read_enter(d: DomainPtr): void;
  vpci_read_exit(d: DomainPtr): void;
  vpci_write_enter(d: DomainPtr): void;
  vpci_write_exit(d: DomainPtr): void;
  /** Take the lock guarding pdev's vPCI state; its address, or 0 when the access goes to hardware. */
  vpci_lock(pdev: PciDevPtr, where: string): number;
  vpci_unlock(pdev: PciDevPtr, lock: number): void;
  /** modify_bars' walk over other devices: false skips tmp; true requires modify_bars_put(tmp). */
  modify_bars_get(pdev: PciDevPtr, tmp: PciDevPtr): boolean;
  modify_bars_put(pdev: PciDevPtr, tmp: PciDevPtr): void;
  /** pci.c: around the parts that publish or retire a device's vPCI state on a domain's list. */
  pdev_list_write_enter(d: DomainPtr): void;
  pdev_list_write_exit(d: DomainPtr): void;
}

/** Every function the table holds: Xen's, then the lab's seams. */
export interface ModelFns extends XenFns, LabSeams {}

export type ModelFnName = keyof ModelFns;
export type ModelTable = Partial<ModelFns>;

export const XEN_FN_NAMES: readonly (keyof XenFns)[] = [
  'vpci_read', 'vpci_write', 'vpci_read_hw', 'vpci_write_hw', 'vpci_add_register', 'vpci_remove_register',
  'vpci_add_handlers', 'vpci_remove_device', 'vpci_assign_device', 'vpci_deassign_device', 'vpci_reset_device',
  'vpci_add_register_mask', 'vpci_remove_registers',
  'init_bars', 'vpci_init_header', 'cmd_write', 'bar_write', 'rom_write', 'guest_cmd_read', 'guest_mem_bar_read',
  'guest_mem_bar_write', 'modify_bars', 'modify_decoding', 'defer_map',
  'map_range', 'vpci_process_pending',
  'init_msix', 'init_msi', 'control_read', 'control_write', 'update_entry', 'msix_find', 'msix_accept', 'msix_read', 'msix_write',
  'vpci_make_msix_hole', 'cleanup_msix', 'vpci_init_capabilities', 'vpci_cleanup_capabilities', 'vpci_reinit_ext_capabilities',
  'vpci_msix_arch_enable_entry', 'vpci_msix_arch_disable_entry', 'vpci_msix_arch_mask_entry',
  'cleanup_msi', 'vpci_init_capability_list', 'vpci_capability_hide',
  'vpci_msi_arch_enable', 'vpci_msi_arch_disable', 'vpci_msi_arch_update', 'vpci_msi_arch_mask', 'vpci_msi_arch_init',
  'hvm_do_resume',
  'pci_add_device', 'pci_remove_device', 'assign_device', 'deassign_device', 'iommu_add_device', 'pci_get_pdev', 'free_pdev',
  'physdev_pci_device_reset', 'physdev_pci_mmcfg_reserved',
];

export const LAB_SEAM_NAMES: readonly (keyof LabSeams)[] = [
  'vpci_read_enter', 'vpci_read_exit', 'vpci_write_enter', 'vpci_write_exit', 'vpci_lock', 'vpci_unlock',
  'modify_bars_get', 'modify_bars_put', 'pdev_list_write_enter', 'pdev_list_write_exit',
];

export const MODEL_FN_NAMES: readonly ModelFnName[] = [...XEN_FN_NAMES, ...LAB_SEAM_NAMES];

const absent = (name: string, gen: string) => (): never => {
  throw new Error(`model function ${name} does not exist in the ${gen} model`);
};

/** The live table of this thread: `fn.vpci_process_pending(v)`. */
export const fn = Object.fromEntries(MODEL_FN_NAMES.map((n) => [n, absent(n, 'installed')])) as unknown as ModelFns;

/** What the installed generation can do (lib/xen/generation.ts): shared code asks this, never the generation's name. */
export let installedCaps: GenerationCaps = { physdevReset: false, pendingSlot: 'vpci_mem', guestBarAddress: false, mmcfgReinit: false };

/** Install a complete table (lib/strategy builds it from a generation and its patches). */
export function installModel(table: ModelTable, generation: { name: string; caps: GenerationCaps }): void {
  installedCaps = generation.caps;
  // A worker installs its strategy before every run's CPU task: the same table again (the common case) writes the
  // same functions, and rebuilding the absent entries' closures was 4% of a verify worker's samples.
  if (installed?.table === table && installed.generation === generation) return;
  const live = fn as unknown as Record<string, unknown>;
  for (const n of MODEL_FN_NAMES) live[n] = table[n] ?? absent(n, generation.name);
  installed = { table, generation };
}
let installed: { table: ModelTable; generation: object } | undefined;

/** A patch's replacements: each is given the function it replaces and returns the new one. */
export type Replacements = { [K in ModelFnName]?: (prev: ModelFns[K]) => ModelFns[K] };

/**
 * A patch: what a strategy is. It names the model it patches (`l21`, `head`, or another strategy) and replaces
 * model functions by their Xen names (lib/strategy/patch.ts applies it).
 */
export interface Patch {
  readonly name: string;
  /** `l21`, `head`, or the name (or, in a patch file, the path) of the strategy this one applies on top of. */
  readonly base: string;
  /** One line: what the patch does. */
  readonly summary?: string;
  /** The patch or mail it models (Message-ID or commit), and the row of xen-vpci-model.md §G. */
  readonly source?: string;
  /** Longer prose: what the patch changes and why (shown by `vpci-lab list --strategy FILE`). */
  readonly description?: string;
  readonly replace?: Replacements;
  /**
   * The patch's own expectations, by scenario name or '*' (lib/strategy/expect.ts): used where a scenario does not
   * name the patch, instead of judging it as a fix.
   */
  readonly expect?: Readonly<Record<string, { expected?: readonly unknown[]; acceptable?: readonly unknown[] }>>;
}
