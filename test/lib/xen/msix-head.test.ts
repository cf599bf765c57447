// MSI-X in the HEAD generation (lib/xen/head/msix.ts, msix-cap.ts, cap.ts, vmsi.ts): the table trap under
// d->pci_lock, the table and PBA kept out of modify_bars' rangesets and out of the p2m, the table unlinked from the
// domain's list on removal and deassign (cleanup_msix), the arch hooks asserting d->pci_lock instead of taking
// pcidevs_lock; and the msix scenarios under every HEAD strategy, searched exhaustively within bounds by verify.

import assert from 'node:assert/strict';
import { M } from '../../../lib/mem/machine.js';
import { NULL } from '../../../lib/mem/heap.js';
import { read_lock, read_unlock, write_lock, write_unlock } from '../../../lib/sync/rwlock.js';
import {
  pci_conf_read16, msix_entry_read, PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_BASE_ADDRESS_0, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET,
} from '../../../lib/hw/index.js';
import { pci_get_pdev_by_domain, pcidevs_lock, pcidevs_unlock } from '../../../lib/xen/pci.js';
import { set_current, dom_io } from '../../../lib/xen/state.js';
import { fn } from '../../../lib/xen/fn.js';
import { p2m_lookup, map_mmio_regions } from '../../../lib/xen/p2m.js';
import { rangeset_overlaps_range } from '../../../lib/xen/rangeset.js';
import { guest_mmio_read, guest_mmio_write } from '../../../lib/xen/intercept.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_MSIX, MSIX_ENTRY, BAR, EEXIST, INVALID_PIRQ } from '../../../lib/xen/types.js';
import { msix_entry } from '../../../lib/xen/vmsix.js';
import { bar } from '../../../lib/xen/bars.js';
import { bootMachine, type World } from '../../../lib/lab/boot.js';
import { stressHw, deviceSbdf, deviceBase, msixEntryAddr, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET } from '../../../lib/lab/workload.js';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify, type VerifyOptions, type VerifyResult } from '../../../lib/explore/verify.js';
import { loadStrategy } from '../../../lib/strategy/index.js';
import { fileURLToPath } from 'node:url';
import { outcomeOf } from '../../helpers-model.js';
import type { PciDevPtr, VcpuPtr, DomainPtr } from '../../../lib/xen/types.js';

const DEV = deviceSbdf(0);
const POS = 0x40;                                   // MSIX_CAP_POS
const TABLE_PFN = (deviceBase(0) + MSIX_TABLE_OFFSET) / 4096, PBA_PFN = (deviceBase(0) + MSIX_PBA_OFFSET) / 4096;
const BAR0_PFN = deviceBase(0) / 4096;
const boot = (over: Partial<Parameters<typeof bootMachine>[0]> = {}): World =>
  bootMachine({ dom0Vcpus: 2, domUVcpus: [], hw: stressHw(1, true), bootDevices: [DEV], strategy: 'upstream', threads: 2, ...over }).world;
const pdevOf = (d: number): number => pci_get_pdev_by_domain(d, DEV, 'test');
const msixOf = (pdev: number): number => M[M[pdev + PCI_DEV.vpci] + VPCI.msix];
const at = (entry: number, field: number): number => msixEntryAddr(DEV, entry, field)!;

describe('MSI-X, HEAD msix.c', () => {
  it('init_msix (after the header) puts the table on Dom0\'s list and carves the table and PBA pages out of the p2m', () => {
    const d0 = boot().domains[0];
    const pdev = pdevOf(d0), msix = msixOf(pdev);
    assert.notEqual(msix, NULL);
    assert.equal(M[d0 + DOMAIN.msix_tables], msix);
    assert.equal(M[msix + VPCI_MSIX.pdev], pdev);
    assert.equal(M[d0 + DOMAIN.msix_mmio_handler], 1, 'register_mmio_handler once');
    assert.equal(p2m_lookup(d0, TABLE_PFN), -1, 'table page trapped');
    assert.equal(p2m_lookup(d0, PBA_PFN), -1, 'PBA page trapped');
    assert.equal(p2m_lookup(d0, BAR0_PFN), BAR0_PFN, 'the rest of BAR0 identity-mapped');
  });

  it('table writes and reads go through the trap to Xen\'s entry; enable + unmask program the device entry', () => {
    const w = boot();
    set_current(w.vcpus[0][1]);
    guest_mmio_write(at(1, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET), 4, 0xfee02000);
    guest_mmio_write(at(1, PCI_MSIX_ENTRY_DATA_OFFSET), 4, 0x4142);
    const entry = msix_entry(msixOf(pdevOf(w.domains[0])), 1);
    assert.equal(M[entry + MSIX_ENTRY.addr_lo] >>> 0, 0xfee02000);
    assert.equal(M[entry + MSIX_ENTRY.updated], 1);
    assert.equal(guest_mmio_read(at(1, PCI_MSIX_ENTRY_DATA_OFFSET), 4), 0x4142, 'msix_read');
    assert.equal(guest_mmio_read(at(1, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 4), 1, 'still masked');
    assert.equal(guest_mmio_read(deviceBase(0) + MSIX_PBA_OFFSET, 4), 0, 'the PBA, read from the device (adjacent_read)');
    fn.vpci_write(DEV, POS + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);        // control_write under the write lock
    assert.equal(pci_conf_read16(DEV, POS + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE);
    guest_mmio_write(at(1, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 4, 0);          // update_entry under the read lock
    assert.equal(M[entry + MSIX_ENTRY.updated], 0);
    assert.equal(msix_entry_read(DEV, 1, PCI_MSIX_ENTRY_DATA_OFFSET), 0x4142);
    assert.equal(msix_entry_read(DEV, 1, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 0, 'unmasked in the device');
  });

  it('the arch hooks assert d->pci_lock (or pcidevs_lock) and take neither (4f78438b45)', () => {
    const w = boot(), d0 = w.domains[0];
    set_current(w.vcpus[0][0]);
    const pdev = pdevOf(d0) as PciDevPtr, entry = msix_entry(msixOf(pdev), 0);
    M[entry + MSIX_ENTRY.addr_lo] = 0xfee00000 | 0;
    assert.equal(outcomeOf(() => fn.vpci_msix_arch_enable_entry(entry, pdev, 0)), 'assert', 'no lock held');
    M[entry + MSIX_ENTRY.arch_pirq] = INVALID_PIRQ;          // the crashed call had already picked a PIRQ
    read_lock(d0 + DOMAIN.pci_lock);
    assert.equal(fn.vpci_msix_arch_enable_entry(entry, pdev, 0), 0);
    assert.equal(fn.vpci_msix_arch_disable_entry(entry, pdev), 0);
    read_unlock(d0 + DOMAIN.pci_lock);
    pcidevs_lock();
    assert.equal(fn.vpci_msix_arch_enable_entry(entry, pdev, 0), 0, 'pcidevs_lock also satisfies the assertion');
    pcidevs_unlock();
  });

  it('modify_bars leaves the table and PBA frames out of BAR0\'s rangeset (header.c:408-431)', () => {
    const w = boot(), d0 = w.domains[0], v = w.vcpus[0][1] as VcpuPtr;
    set_current(v);
    fn.vpci_write(DEV, PCI_COMMAND, 2, 0);                                      // deferred unmap
    const mem = M[bar(M[pdevOf(d0) + PCI_DEV.vpci], 0) + BAR.mem];
    assert.ok(rangeset_overlaps_range(mem, BAR0_PFN, BAR0_PFN), 'BAR0 page 0 is to be unmapped');
    assert.ok(!rangeset_overlaps_range(mem, TABLE_PFN, TABLE_PFN), 'not the table page');
    assert.ok(!rangeset_overlaps_range(mem, PBA_PFN, PBA_PFN), 'nor the PBA page');
    while (fn.vpci_process_pending(v));
    assert.equal(p2m_lookup(d0, BAR0_PFN), -1);
    fn.vpci_write(DEV, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);                     // deferred map
    while (fn.vpci_process_pending(v));
    assert.equal(p2m_lookup(d0, BAR0_PFN), BAR0_PFN);
    assert.equal(p2m_lookup(d0, TABLE_PFN), -1, 'the table still traps after a map');
  });

  it('vpci_make_msix_hole removes an identity mapping of the table and refuses a foreign one (-EEXIST)', () => {
    const w = boot(), d0 = w.domains[0];
    set_current(w.vcpus[0][0]);
    const pdev = pdevOf(d0) as PciDevPtr;
    map_mmio_regions(d0, TABLE_PFN, 1, TABLE_PFN);
    assert.equal(fn.vpci_make_msix_hole(pdev), 0);
    assert.equal(p2m_lookup(d0, TABLE_PFN), -1);
    map_mmio_regions(d0, PBA_PFN, 1, BAR0_PFN);
    assert.equal(fn.vpci_make_msix_hole(pdev), EEXIST);
  });

  it('removal unlinks and frees the table: later accesses read all-ones, and a re-add links a new one', () => {
    const w = boot(), d0 = w.domains[0];
    set_current(w.vcpus[0][0]);
    const old = msixOf(pdevOf(d0));
    assert.equal(fn.pci_remove_device(DEV), 0);
    assert.equal(M[d0 + DOMAIN.msix_tables], NULL, 'list_del (c14aea137e)');
    set_current(w.vcpus[0][1]);
    assert.equal(outcomeOf(() => assert.equal(guest_mmio_read(at(0, 0), 4), 0xffffffff)), 'ok');
    set_current(w.vcpus[0][0]);
    assert.equal(fn.pci_add_device(DEV), 0);
    const msix = msixOf(pdevOf(d0));
    assert.equal(M[d0 + DOMAIN.msix_tables], msix);
    assert.equal(M[msix + VPCI_MSIX.next], NULL, 'alone on the list');
    assert.equal(M[d0 + DOMAIN.msix_mmio_handler], 2, 'the handler is registered again once the list was empty');
    void old;
  });

  it('a failed init_msix is masked (cap.c:318-337): cleanup_msix(hide) unlinks and leaves Dom0 a read-only control', () => {
    const w = boot(), d0 = w.domains[0];
    set_current(w.vcpus[0][0]);
    const pdev = pdevOf(d0) as PciDevPtr;
    write_lock(d0 + DOMAIN.pci_lock);
    assert.equal(fn.cleanup_msix(pdev, true), 0);
    write_unlock(d0 + DOMAIN.pci_lock);
    assert.equal(M[d0 + DOMAIN.msix_tables], NULL);
    assert.equal(M[M[pdev + PCI_DEV.vpci] + VPCI.msix], NULL);
    fn.vpci_write(DEV, POS + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
    assert.equal(pci_conf_read16(DEV, POS + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE, 0, 'the enable write is ignored');
    assert.equal(fn.vpci_read(DEV, POS + PCI_MSIX_FLAGS, 2), pci_conf_read16(DEV, POS + PCI_MSIX_FLAGS), 'reads the hardware');
  });

  it('a DomU\'s table sits at its guest BAR address: mapped around, trapped there, not at the host address', () => {
    const w = boot({ domUVcpus: [1], vpciGuestSupport: true, threads: 3, bootAssign: [{ domain: 1, sbdf: DEV }] });
    const d1 = w.domains[1], v = w.vcpus[1][0] as VcpuPtr;
    const GUEST = 0xe0800000, gPfn = GUEST / 4096, gTable = GUEST + MSIX_TABLE_OFFSET;
    set_current(v);
    fn.vpci_write(DEV, PCI_BASE_ADDRESS_0, 4, GUEST);                          // guest_mem_bar_write, decoding off
    fn.vpci_write(DEV, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    while (fn.vpci_process_pending(v));
    assert.equal(p2m_lookup(d1, gPfn), BAR0_PFN, 'guest frame -> host frame (map_range)');
    assert.equal(p2m_lookup(d1, gTable / 4096), -1, 'the table page at the guest address traps');
    guest_mmio_write(gTable + 16 + PCI_MSIX_ENTRY_DATA_OFFSET, 4, 0x5151);    // entry 1
    assert.equal(M[msix_entry(M[d1 + DOMAIN.msix_tables], 1) + MSIX_ENTRY.data], 0x5151);
    assert.equal(guest_mmio_read(gTable + 16 + PCI_MSIX_ENTRY_DATA_OFFSET, 4), 0x5151);
    assert.equal(guest_mmio_read(deviceBase(0) + MSIX_TABLE_OFFSET + 16 + PCI_MSIX_ENTRY_DATA_OFFSET, 4), 0xffffffff,
      'the host address is nothing to the DomU');
  });

  it('assign and deassign move the table between the domains\' lists (vpci_deassign_device, vpci_assign_device)', () => {
    const w = boot({ domUVcpus: [1], vpciGuestSupport: true, threads: 3 });
    const [d0, d1] = w.domains;
    set_current(w.vcpus[0][0]);
    pcidevs_lock();
    assert.equal(fn.assign_device(d1 as DomainPtr, DEV), 0);
    pcidevs_unlock();
    assert.equal(M[d0 + DOMAIN.msix_tables], NULL);
    const msix = M[d1 + DOMAIN.msix_tables];
    assert.notEqual(msix, NULL);
    assert.equal(M[M[msix + VPCI_MSIX.pdev] + PCI_DEV.domain], d1);
    pcidevs_lock();
    assert.equal(fn.deassign_device(d1 as DomainPtr, DEV), 0);
    pcidevs_unlock();
    assert.equal(M[d1 + DOMAIN.msix_tables], NULL);
    // Quarantine (Xen's default, pci.c:909-920): the device is dom_io's, which has no vPCI, so no list has it.
    assert.equal(M[d0 + DOMAIN.msix_tables], NULL);
    pcidevs_lock();
    assert.equal(fn.deassign_device(dom_io(), DEV), 0);   // xl pci-assignable-remove: from dom_io to Dom0
    pcidevs_unlock();
    assert.notEqual(M[d0 + DOMAIN.msix_tables], NULL);
  });

  it('with iommu=no-quarantine deassign gives the device straight back to Dom0', () => {
    const w = boot({ domUVcpus: [1], vpciGuestSupport: true, threads: 3, iommuQuarantine: false });
    const [d0, d1] = w.domains;
    set_current(w.vcpus[0][0]);
    pcidevs_lock();
    assert.equal(fn.assign_device(d1 as DomainPtr, DEV), 0);
    assert.equal(fn.deassign_device(d1 as DomainPtr, DEV), 0);
    pcidevs_unlock();
    assert.notEqual(M[d0 + DOMAIN.msix_tables], NULL);
  });
});

describe('MSI-X scenarios under HEAD, every schedule within bounds', function () {
  this.timeout(120_000);
  let pool: TrialPool;
  before(() => { pool = createPool(2); });
  after(async () => { await pool.close(); });
  const BASE: VerifyOptions = { bound: 2, reduce: true, kinds: 0, maxFaults: 1, maxRuns: 20_000, budgetMs: 60_000, seed: 1 };
  const run = async (name: string, strategy: string): Promise<VerifyResult> => {
    const { url, scenario } = await loadScenario(name);
    return verify(pool, url, scenario, strategy, BASE);
  };
  const kinds = (r: VerifyResult): string[] => Object.keys(r.outcomes).filter((o) => (r.outcomes as Record<string, unknown>)[o]).sort();

  it('msix-race under upstream: no crash in any schedule, and the write both lands and misses the table', async () => {
    const r = await run('msix-race', 'upstream');
    assert.ok(r.complete);
    assert.deepEqual(kinds(r), ['ok']);
    assert.equal(r.forbidden, 0);
    assert.ok(r.digests.length >= 2, `terminal states: ${r.digests.length} (before and after the removal)`);
  });

  it('c14aea137e undone on HEAD (test/fixtures/patches): the freed table left on the list is a use-after-free in msix_find', async () => {
    await loadStrategy(fileURLToPath(new URL('../../../../test/fixtures/patches/c14aea137e-no-list-del.mjs', import.meta.url)));
    const pre = await run('msix-race', 'c14aea137e-prefix');
    assert.equal(pre.firstFailure?.outcome, 'use-after-free');
    assert.equal(pre.firstFailure?.where, 'msix_find');
    assert.equal(pre.firstFailure?.preemptions, 0, 'no race needed: any write after the removal walks into it');
  });

  it('msix-abba: L21 deadlocks on vpci->lock against pcidevs_lock; HEAD cannot, and upstream-drain is clean', async () => {
    const l21 = await run('msix-abba', 'baseline');
    assert.ok(l21.outcomes.deadlock, 'baseline reaches the inversion');
    assert.equal(l21.forbidden, 0);
    const head = await run('msix-abba', 'upstream');
    assert.ok(head.complete);
    assert.equal(head.outcomes.deadlock, undefined, 'no deadlock at HEAD');
    assert.deepEqual(kinds(head), ['ok', 'use-after-free']);
    assert.equal(head.firstFailure?.where, 'vpci_write', 'only lock-freed\'s alldevs_list race (issue 15 point 2)');
    assert.equal(head.forbidden, 0);
    const drain = await run('msix-abba', 'upstream-drain');
    assert.ok(drain.complete);
    assert.deepEqual(kinds(drain), ['ok']);
  });
});
