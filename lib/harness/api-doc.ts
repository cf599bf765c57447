// docs/model-api.md, generated: every model function of the table (lib/xen/fn.ts) by its Xen name, the generations
// that have it (read from the generations' tables, so it cannot drift), where it is in Xen at each generation's
// commit, its arguments and what they mean. `npm run docs:api` rewrites the page; test/lib/model/model-api-doc.test.ts fails
// when the page is not what this renders.

import { MODEL_FN_NAMES, type ModelFnName } from '../xen/fn.js';
import { GENERATIONS } from '../strategy/index.js';

/** What each argument name means, unless a function says otherwise. */
const ARGS: Record<string, string> = {
  sbdf: "the device, as one number: bus << 8 | device << 3 | function (a scenario's x.dev(i); a harness's devices[i])",
  reg: 'config-space offset, 0..4095',
  size: 'access width in bytes: 1, 2 or 4',
  pdev: 'struct pci_dev * (a heap address)',
  vpci: 'struct vpci * (pdev->vpci)',
  read: 'read handler id: readHandler(fn) gives one for a function; 0 = none (reads all-ones)',
  write: 'write handler id: writeHandler(fn) gives one for a function; 0 = none (writes dropped)',
  offset: 'register offset in config space',
  d: 'struct domain * (a heap address: harness.domains[i], domain_by_index(i)); not an index',
  v: 'struct vcpu * (harness.vcpus[d][i], current())',
  cmd: 'the PCI_COMMAND value',
  val: 'the value written',
  rom_only: 'true: only the ROM BAR changes',
  map: 'true maps, false unmaps',
  s: 'first guest frame', e: 'last guest frame',
  consumed: '{ c }: frames done so far (in and out: map_range is preemptible)',
  bar: "HEAD: the BAR being mapped (struct vpci_bar *), whose host frames s..e map to",
  msix: 'struct vpci_msix * (the register data of MSI-X control)',
  entry: 'struct vpci_msix_entry * (an address inside the vpci_msix block)',
  nr: 'entry number in the table',
  addr: 'guest physical address of the access',
  len: 'access length in bytes',
  table_base: "the MSI-X table's guest physical address",
  mask: 'true masks, false unmasks',
  msi: 'struct vpci_msi * (pdev->vpci->msi)',
  vectors: 'number of vectors being enabled',
  hide: 'the capability failed to initialise: leave Dom0 a read-only control',
  cap: 'capability id (PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX)',
  where: "the caller's name, for crash reports",
  lock: 'the lock address vpci_lock returned',
  tmp: 'another struct pci_dev * met by the walk',
  start: 'first offset of the range',
  data: "the register's private data (a heap address, or a value the handler interprets)",
  ro_mask: 'read-only bits', rw1c_mask: 'write-1-to-clear bits', rsvdp_mask: 'reserved bits preserved on write', rsvdz_mask: 'reserved bits read as zero',
};

interface FnDoc {
  /** Arguments in order; `name=meaning` overrides ARGS for this function. */
  args: string;
  /** Where in Xen, per generation: xen/-relative file:line at 4ed7d5525f (l21) and c447b7308b (head). */
  l21?: string; head?: string;
  /** One line: what it does or returns, or what stands in for it when Xen has no such function. */
  note: string;
}

const VAL = 'data=the value written';
const FNS: Record<ModelFnName, FnDoc> = {
  vpci_read: { args: 'sbdf, reg, size', l21: 'drivers/vpci/vpci.c:311', head: 'drivers/vpci/vpci.c:475', note: "the current vCPU's domain's config read: the registers' handlers, the hardware for the gaps; returns the value" },
  vpci_write: { args: `sbdf, reg, size, ${VAL}`, l21: 'drivers/vpci/vpci.c:413', head: 'drivers/vpci/vpci.c:596', note: 'the config write, through the handlers and to the hardware for the gaps' },
  vpci_read_hw: { args: 'sbdf, reg, size', l21: 'drivers/vpci/vpci.c:211', head: 'drivers/vpci/vpci.c:367', note: 'a read of the device itself' },
  vpci_write_hw: { args: `sbdf, reg, size, ${VAL}`, l21: 'drivers/vpci/vpci.c:256', head: 'drivers/vpci/vpci.c:416', note: 'a write to the device itself' },
  vpci_add_register: { args: 'vpci, read, write, offset, size, data', l21: 'drivers/vpci/vpci.c:132', head: 'drivers/vpci/vpci.c:326', note: '0, or -EINVAL / -EEXIST / -ENOMEM (overlap, bad size or alignment, no handler)' },
  vpci_remove_register: { args: 'vpci, offset, size', l21: 'drivers/vpci/vpci.c:180', note: 'L21: remove the register at exactly offset and size (-ENOENT otherwise); the head model maps it to vpci_remove_registers' },
  vpci_add_handlers: { args: 'pdev', l21: 'drivers/vpci/vpci.c:60', note: 'L21: allocate pdev->vpci and run the init hooks' },
  vpci_remove_device: { args: 'pdev, before_free=optional hook a strategy runs before the free', l21: 'drivers/vpci/vpci.c:38', note: "L21: free the device's vPCI state (0, or -ERESTART under the seed's proposal)" },
  vpci_assign_device: { args: 'pdev', head: 'drivers/vpci/vpci.c:126', note: "HEAD: vPCI set-up for the device's owner; the caller holds d->pci_lock for writing" },
  vpci_deassign_device: { args: 'pdev', head: 'drivers/vpci/vpci.c:90', note: 'HEAD: vPCI teardown; the caller holds d->pci_lock for writing' },
  vpci_reset_device: { args: 'pdev', head: 'include/xen/vpci.h:241', note: 'HEAD: vpci_deassign_device then vpci_assign_device (PHYSDEVOP_pci_device_reset)' },
  vpci_add_register_mask: { args: 'vpci, read, write, offset, size, data, ro_mask, rw1c_mask, rsvdp_mask, rsvdz_mask', head: 'drivers/vpci/vpci.c:265', note: 'HEAD: registration with access masks; -EINVAL for a bit in two masks or beyond the size' },
  vpci_remove_registers: { args: 'vpci, start, size', head: 'drivers/vpci/vpci.c:334', note: 'HEAD: remove every register inside [start, start + size); -ERANGE for one straddling the end' },
  init_bars: { args: 'pdev', l21: 'drivers/vpci/header.c:448', note: "L21's header init hook: size the BARs, register their handlers, map them if decoding is on" },
  vpci_init_header: { args: 'pdev', head: 'drivers/vpci/header.c:747', note: "HEAD's header init (a fault point: x.failNext('init_bars'))" },
  cmd_write: { args: 'pdev, reg, cmd', l21: 'drivers/vpci/header.c:335', head: 'drivers/vpci/header.c:521', note: 'the COMMAND write handler: decoding changes go through modify_bars' },
  bar_write: { args: 'pdev, reg, val, data=the BAR (struct vpci_bar *)', l21: 'drivers/vpci/header.c:356', head: 'drivers/vpci/header.c:562', note: "a BAR write (ignored while the BAR's decoding is on)" },
  rom_write: { args: 'pdev, reg, val, data=the ROM BAR', l21: 'drivers/vpci/header.c:400', head: 'drivers/vpci/header.c:677', note: 'the expansion ROM BAR write' },
  guest_cmd_read: { args: 'pdev, reg, data', head: 'drivers/vpci/header.c:554', note: "HEAD: a DomU's view of COMMAND" },
  guest_mem_bar_read: { args: 'pdev, reg, data=the BAR', head: 'drivers/vpci/header.c:656', note: "HEAD: a DomU's view of a memory BAR (guest address)" },
  guest_mem_bar_write: { args: 'pdev, reg, val, data=the BAR', head: 'drivers/vpci/header.c:614', note: 'HEAD: a DomU setting its guest address of a BAR' },
  modify_bars: { args: 'pdev, cmd, rom_only', l21: 'drivers/vpci/header.c:206', head: 'drivers/vpci/header.c:308', note: 'build the ranges to (un)map for a decoding change, then defer_map (or apply_map at boot)' },
  modify_decoding: { args: 'pdev, cmd, rom_only', l21: 'drivers/vpci/header.c:84', head: 'drivers/vpci/header.c:119', note: 'write COMMAND and mark the BARs enabled or not, once the mapping is done' },
  defer_map: { args: 'pdev, mem=L21: the rangeset to map; HEAD: 0 (the ranges live in the BARs), cmd, rom_only', l21: 'drivers/vpci/header.c:183', head: 'drivers/vpci/header.c:287', note: "record the work in current's v->vpci and raise SCHEDULE_SOFTIRQ" },
  map_range: { args: 'd, map, s, e, consumed, bar', l21: 'drivers/vpci/header.c:36', head: 'drivers/vpci/header.c:42', note: 'the rangeset callback: (un)map frames in the p2m, -ERESTART when preempted' },
  vpci_process_pending: { args: 'v, on_failure=L21 proposals: the failure policy', l21: 'drivers/vpci/header.c:132', head: 'drivers/vpci/header.c:177', note: "do v's deferred map work; true while some remains" },
  init_msix: { args: 'pdev', l21: 'drivers/vpci/msix.c:431', head: 'drivers/vpci/msix.c:713', note: 'the MSI-X init hook: struct vpci_msix, its control register, the table on d->arch.hvm.msix_tables' },
  init_msi: { args: 'pdev', l21: 'drivers/vpci/msi.c:185', head: 'drivers/vpci/msi.c:257', note: "the MSI init hook (HEAD: the MSI entry of cap.c's array)" },
  cleanup_msi: { args: 'pdev, hide', head: 'drivers/vpci/msi.c:197', note: 'HEAD: free vpci->msi' },
  control_read: { args: 'pdev, reg, data=struct vpci_msix *', l21: 'drivers/vpci/msix.c:30', head: 'drivers/vpci/msix.c:39', note: "msix.c's MSI-X control register read" },
  control_write: { args: 'pdev, reg, val, data=struct vpci_msix *', l21: 'drivers/vpci/msix.c:68', head: 'drivers/vpci/msix.c:77', note: "msix.c's control write: enable, function mask, entries updated" },
  update_entry: { args: 'entry, pdev, nr', l21: 'drivers/vpci/msix.c:40', head: 'drivers/vpci/msix.c:49', note: 'disable then enable one entry through the arch hooks' },
  msix_find: { args: 'd, addr', l21: 'drivers/vpci/msix.c:141', head: 'drivers/vpci/msix.c:157', note: "the vpci_msix whose table or PBA covers addr on d's list, or NULL" },
  msix_accept: { args: 'v, addr', l21: 'drivers/vpci/msix.c:159', head: 'drivers/vpci/msix.c:177', note: "true when a table claims the access (the MMIO handler's accept)" },
  msix_read: { args: 'v, addr, len, data={ lo, hi }: the value read', l21: 'drivers/vpci/msix.c:185', head: 'drivers/vpci/msix.c:351', note: 'X86EMUL_OKAY or X86EMUL_RETRY' },
  msix_write: { args: 'v, addr, len, data={ lo, hi }: the value written', l21: 'drivers/vpci/msix.c:262', head: 'drivers/vpci/msix.c:479', note: 'X86EMUL_OKAY or X86EMUL_RETRY' },
  vpci_make_msix_hole: { args: 'pdev', l21: 'drivers/vpci/msix.c:384', head: 'drivers/vpci/msix.c:595', note: "punch the table and PBA out of Dom0's p2m" },
  cleanup_msix: { args: 'pdev, hide', head: 'drivers/vpci/msix.c:664', note: "HEAD: list_del from d's msix_tables and free" },
  vpci_init_capabilities: { args: 'pdev', head: 'drivers/vpci/cap.c:288', note: "HEAD: run the capability array's inits" },
  vpci_cleanup_capabilities: { args: 'pdev', head: 'drivers/vpci/cap.c:361', note: "HEAD: run the capability array's cleanups" },
  vpci_reinit_ext_capabilities: { args: 'pdev', head: 'drivers/vpci/cap.c:392', note: 'HEAD: PHYSDEVOP_pci_mmcfg_reserved re-inits the extended capabilities, under pcidevs_lock only' },
  vpci_init_capability_list: { args: 'pdev', head: 'drivers/vpci/cap.c:162', note: 'HEAD: the emulated capability list' },
  vpci_capability_hide: { args: 'pdev, cap', head: 'drivers/vpci/cap.c:40', note: 'HEAD: unlink a capability whose init failed' },
  vpci_msix_arch_enable_entry: { args: 'entry, pdev, table_base', l21: 'arch/x86/hvm/vmsi.c:849', head: 'arch/x86/hvm/vmsi.c:1001', note: 'bind the PIRQ of an unmasked entry' },
  vpci_msix_arch_disable_entry: { args: 'entry, pdev', l21: 'arch/x86/hvm/vmsi.c:875', head: 'arch/x86/hvm/vmsi.c:1026', note: "unbind an entry's PIRQ" },
  vpci_msix_arch_mask_entry: { args: 'entry, pdev, mask', l21: 'arch/x86/hvm/vmsi.c:842', head: 'arch/x86/hvm/vmsi.c:994', note: "mask or unmask an entry's PIRQ" },
  vpci_msi_arch_enable: { args: 'msi, pdev, vectors', head: 'arch/x86/hvm/vmsi.c:927', note: "HEAD: bind MSI's PIRQs (asserts the owner's pci_lock)" },
  vpci_msi_arch_disable: { args: 'msi, pdev', head: 'arch/x86/hvm/vmsi.c:970', note: "HEAD: unbind MSI's PIRQs" },
  vpci_msi_arch_update: { args: 'msi, pdev', head: 'arch/x86/hvm/vmsi.c:875', note: 'HEAD: rebind after an address or data change' },
  vpci_msi_arch_mask: { args: 'msi, pdev, entry=vector number, mask', head: 'arch/x86/hvm/vmsi.c:828', note: 'HEAD: mask one vector' },
  vpci_msi_arch_init: { args: 'msi', head: 'arch/x86/hvm/vmsi.c:976', note: "HEAD: initialise MSI's arch state" },
  hvm_do_resume: { args: 'v', l21: 'arch/x86/hvm/hvm.c:504', head: 'arch/x86/hvm/hvm.c:521', note: 'the return to the guest: true when v may enter it, false while vPCI work is pending' },
  pci_add_device: { args: 'sbdf', l21: 'drivers/passthrough/pci.c:726', head: 'drivers/passthrough/pci.c:665', note: 'PHYSDEVOP_pci_device_add: alloc_pdev, Dom0 owns it, vPCI set-up, iommu_add_device; Xen rc' },
  pci_remove_device: { args: 'sbdf', l21: 'drivers/passthrough/pci.c:873', head: 'drivers/passthrough/pci.c:834', note: 'PHYSDEVOP_pci_device_remove: vPCI teardown, off the lists, free_pdev; Xen rc' },
  assign_device: { args: 'd, sbdf', l21: 'drivers/passthrough/pci.c:1473', head: 'drivers/passthrough/pci.c:1593', note: 'XEN_DOMCTL_assign_device (caller holds pcidevs_lock); Xen rc' },
  deassign_device: { args: 'd, sbdf', l21: 'drivers/passthrough/pci.c:907', head: 'drivers/passthrough/pci.c:894', note: 'XEN_DOMCTL_deassign_device: back to Dom0; Xen rc' },
  iommu_add_device: { args: 'pdev', l21: 'drivers/passthrough/pci.c:1369', head: 'drivers/passthrough/pci.c:1488', note: "0, or the injected failure (x.failNext('iommu'))" },
  pci_get_pdev: { args: 'd=struct domain *, or NULL for any owner, sbdf, where', l21: 'drivers/passthrough/pci.c:611', head: 'drivers/passthrough/pci.c:548', note: "the pci_dev of sbdf owned by d, or NULL (alldevs_list is walked at l21 for every d, at head for hwdom and NULL, with a yield point at each node: a freed node faults in the walk, named as Xen's function: l21 pci_get_pdev_by_domain, head pci_get_pdev)" },
  free_pdev: { args: 'pdev', head: 'drivers/passthrough/pci.c:436', note: 'HEAD: list_del from alldevs_list, then xfree (caller holds pcidevs_lock)' },
  physdev_pci_device_reset: { args: 'sbdf', head: 'drivers/pci/physdev.c:97', note: "HEAD: PHYSDEVOP_pci_device_reset's body: lookup under pcidevs_lock, the owner's pci_lock, vpci_reset_device; Xen rc" },
  physdev_pci_mmcfg_reserved: { args: '', head: 'arch/x86/physdev.c:529', note: "HEAD: PHYSDEVOP_pci_mmcfg_reserved's walk: vpci_reinit_ext_capabilities on every device, under pcidevs_lock only" },
  vpci_read_enter: { args: 'd', note: 'lab hook, empty in L21: where 2021 proposals take a lock around vpci_read' },
  vpci_read_exit: { args: 'd', note: 'lab hook, empty in L21: the matching release' },
  vpci_write_enter: { args: 'd', note: 'lab hook, empty in L21: where 2021 proposals take a lock around vpci_write' },
  vpci_write_exit: { args: 'd', note: 'lab hook, empty in L21: the matching release' },
  vpci_lock: { args: 'pdev, where', note: "lab hook: take the lock guarding pdev's vPCI state (L21: pdev->vpci->lock); its address, or 0 for the hardware" },
  vpci_unlock: { args: 'pdev, lock', note: 'lab hook: release what vpci_lock took' },
  modify_bars_get: { args: 'pdev, tmp', note: "lab hook: modify_bars' walk over other devices; false skips tmp, true requires modify_bars_put" },
  modify_bars_put: { args: 'pdev, tmp', note: 'lab hook: the matching release' },
  pdev_list_write_enter: { args: 'd', note: "lab hook, empty in L21: around publishing or retiring a device's vPCI state on d's list" },
  pdev_list_write_exit: { args: 'd', note: 'lab hook: the matching release' },
};

const esc = (s: string): string => s.replace(/\|/g, '\\|');

const argsOf = (spec: string): string[] => (spec ? spec.split(/, (?=\w+(?:=|,|$))/) : []);

function argText(spec: string): string {
  return argsOf(spec).map((a) => {
    const [name, own] = a.split('=');
    return `\`${name}\`: ${own ?? ARGS[name] ?? '?'}`;
  }).join('; ');
}

/** The whole page. */
export function modelApiMarkdown(): string {
  const gens = Object.values(GENERATIONS);
  const rows = MODEL_FN_NAMES.map((n) => {
    const d = FNS[n];
    const has = gens.filter((g) => n in g.fns).map((g) => g.name);
    const where = gens.map((g) => (d as unknown as Record<string, string | undefined>)[g.name] ? `${g.name} ${(d as unknown as Record<string, string>)[g.name]}` : '').filter(Boolean).join('<br>') || 'none (lab hook)';
    return `| \`${n}(${argsOf(d.args).map((a) => a.split('=')[0]).join(', ')})\` | ${has.join(', ')} | ${where} | ${esc(argText(d.args))} | ${esc(d.note)} |`;
  });
  return `# Model API: the function table

[← scenarios and patches](scenarios-and-patches.md) · generated by \`npm run docs:api\` from lib/harness/api-doc.ts and the
generations' tables; test/lib/model/model-api-doc.test.ts fails when this page is out of date.

Every function below is an entry of the model's table, \`fn\` in \`vpci-lab/model\`, under its Xen name: call it as
\`fn.vpci_read(sbdf, reg, size)\` (or \`callModel('vpci_read', ...)\`, which names the closest function when one is
misspelt), and replace it in a patch as \`replace: { vpci_read: (prev) => (sbdf, reg, size) => ... }\`. A function
a generation does not have throws when called. Pointers are word addresses into the machine's memory \`M\`
(\`struct domain *\` is an address, never a domain index); Xen's error codes are negative numbers (\`ENOMEM\`, ...).
Xen's file:line is at the generation's commit, \`xen/\`-relative: l21 = 4ed7d5525f (late 2021), head = c447b7308b.

| function | generations | in Xen | arguments | what it does |
|---|---|---|---|---|
${rows.join('\n')}

## The scenario actor API (x)

Not table functions: what a scenario's actor is given, each a guest action of its vCPU (lib/scenario).

| call | arguments |
|---|---|
| \`x.read(sbdf, reg, size)\`, \`x.write(sbdf, reg, size, value)\` | a guest config access through ECAM: \`sbdf\` from \`x.dev(i)\`, \`reg\` 0..4095, \`size\` 1, 2 or 4 |
| \`x.add(sbdf)\`, \`x.remove(sbdf)\`, \`x.reset(sbdf)\` | PHYSDEVOP hypercalls on device \`sbdf\`; Xen's rc |
| \`x.mmcfgReserved()\` | PHYSDEVOP_pci_mmcfg_reserved for the lab's segment (HEAD re-inits every device's extended capabilities); Xen's rc |
| \`x.quarantine(sbdf)\`, \`x.dequarantine(sbdf)\` | the toolstack's assign to \`dom_io\` (\`xl pci-assignable-add\`: sets \`pdev->quarantine\`) and deassign from it (\`pci-assignable-remove\`); Xen's rc |
| \`x.assign(domain, sbdf)\`, \`x.deassign(domain, sbdf)\`, \`x.unmapBars(domain, sbdf)\` | domctls: \`domain\` is an index (0 = Dom0, 1 = the first DomU), not a pointer; Xen's rc |
| \`x.msixRead(sbdf, entry, field)\`, \`x.msixWrite(sbdf, entry, field, value)\` | a 4-byte guest access to dword \`field\` (0, 4, 8, 12) of MSI-X table entry \`entry\` (0..7) |
| \`x.failNext(what, n)\` | \`what\`: 'iommu', 'map' (the next \`n\` calls fail) or an init hook ('init_bars', 'init_msix', 'init_msi': the next call fails) |
| \`x.resume()\`, \`x.dev(i)\`, \`x.regs\`, \`x.name\`, \`x.domain\` | return to the guest; device i's sbdf; register names; this vCPU's name and domain index |
`;
}
