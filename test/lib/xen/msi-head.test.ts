// MSI and the emulated capability list in the HEAD generation (lib/xen/head/msi.ts, msi-arch.ts, cap.ts,
// cap-list.ts): the MSI registers through vpci_read / vpci_write, PIRQ binding under the owner's d->pci_lock, the
// capability list as a guest walks it, a failed capability init masked for Dom0 and for a DomU (cap.c:318-340),
// and the scenarios init-msi-fail and hidden-msi(x)(-remove) under HEAD, every schedule within bounds.

import assert from 'node:assert/strict';
import { M } from '../../../lib/mem/machine.js';
import { NULL } from '../../../lib/mem/heap.js';
import { write_lock, write_unlock } from '../../../lib/sync/rwlock.js';
import {
  pci_conf_read16, pci_conf_read32, PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_CAPABILITY_LIST, PCI_CAP_LIST_ID,
  PCI_CAP_LIST_NEXT, PCI_CAP_ID_MSI, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_32,
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE,
} from '../../../lib/hw/index.js';
import { pci_get_pdev_by_domain, pcidevs_lock, pcidevs_unlock } from '../../../lib/xen/pci.js';
import { set_current, XEN, xen } from '../../../lib/xen/state.js';
import { fn } from '../../../lib/xen/fn.js';
import { FAULT_KINDS } from '../../../lib/xen/fault.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_MSI, INVALID_PIRQ } from '../../../lib/xen/types.js';
import { MSI_PIRQ_BASE } from '../../../lib/xen/head/msi-arch.js';
import { bootMachine, type World } from '../../../lib/lab/boot.js';
import { stressHw, deviceSbdf } from '../../../lib/lab/workload.js';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify, type VerifyOptions, type VerifyResult } from '../../../lib/explore/verify.js';
import { outcomeOf } from '../../helpers-model.js';
import type { PciDevPtr, DomainPtr } from '../../../lib/xen/types.js';

const DEV = deviceSbdf(0);
const MSIX = 0x40, MSI = 0x50;                       // MSIX_CAP_POS, MSI_CAP_POS (lib/hw/desc.ts)
const INIT_MSIX = 0, INIT_BARS = 1, INIT_MSI = 2;    // failNext's hook indices (late 2021's order)
const boot = (msix: boolean, over: Partial<Parameters<typeof bootMachine>[0]> = {}): World =>
  bootMachine({ dom0Vcpus: 1, domUVcpus: [], hw: stressHw(1, msix, true), bootDevices: [DEV], strategy: 'upstream', threads: 2, ...over }).world;
const pdevOf = (): PciDevPtr => pci_get_pdev_by_domain(NULL, DEV, 'test') as PciDevPtr;
const vpciOf = (): number => M[pdevOf() + PCI_DEV.vpci];
const failNext = (hook: number): void => { Atomics.store(M, xen(XEN.init_fail_next), hook + 1); };

/** The capability list as a driver walks it through config space (vpci_read for the current vCPU's domain). */
function walk(): number[] {
  const seen: number[] = [];
  for (let pos = fn.vpci_read(DEV, PCI_CAPABILITY_LIST, 1); pos >= 0x40 && pos !== 0xff && seen.length < 48;
    pos = fn.vpci_read(DEV, pos + PCI_CAP_LIST_NEXT, 1)) seen.push(pos);
  return seen;
}

/** Dom0 reassigns the device to itself with hook `hook` failing (vpci_reset_device under the write lock). */
function resetFailing(w: World, hook: number): number {
  const d0 = w.domains[0];
  set_current(w.vcpus[0][0]);
  failNext(hook);
  write_lock(d0 + DOMAIN.pci_lock);
  const rc = fn.vpci_reset_device(pdevOf());
  write_unlock(d0 + DOMAIN.pci_lock);
  return rc;
}

describe('MSI, HEAD msi.c', () => {
  it('the MSI registers read and write through vpci_read/vpci_write; enable binds a PIRQ and programs the device', () => {
    const w = boot(false);
    set_current(w.vcpus[0][0]);
    const msi = M[vpciOf() + VPCI.msi];
    assert.notEqual(msi, NULL);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_MSI_FLAGS, 2), 0, '1 vector capable, 1 enabled, disabled, 32-bit, no mask');
    fn.vpci_write(DEV, MSI + PCI_MSI_ADDRESS_LO, 4, 0xfee01000);
    fn.vpci_write(DEV, MSI + PCI_MSI_DATA_32, 2, 0x4041);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_MSI_ADDRESS_LO, 4), 0xfee01000);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_MSI_DATA_32, 2), 0x4041);
    assert.equal(pci_conf_read32(DEV, MSI + PCI_MSI_ADDRESS_LO), 0, 'emulated: the device has nothing yet');
    assert.equal(M[msi + VPCI_MSI.arch_pirq], INVALID_PIRQ);
    fn.vpci_write(DEV, MSI + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);          // control_write -> vpci_msi_arch_enable
    assert.equal(M[msi + VPCI_MSI.arch_pirq], MSI_PIRQ_BASE);
    assert.equal(M[msi + VPCI_MSI.arch_bound], 1);
    assert.equal(pci_conf_read16(DEV, MSI + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_ENABLE);
    assert.equal(pci_conf_read32(DEV, MSI + PCI_MSI_ADDRESS_LO) >>> 0, 0xfee01000);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_ENABLE);
    fn.vpci_write(DEV, MSI + PCI_MSI_DATA_32, 2, 0x4042);                      // update_msi rebinds an enabled MSI
    assert.equal(pci_conf_read16(DEV, MSI + PCI_MSI_DATA_32), 0x4042);
    fn.vpci_write(DEV, MSI + PCI_MSI_ADDRESS_LO, 4, 0x1000);                   // not an MSI address: unbound, still enabled
    assert.equal(M[msi + VPCI_MSI.arch_bound], 0);
    assert.equal(M[msi + VPCI_MSI.enabled], 1);
    fn.vpci_write(DEV, MSI + PCI_MSI_FLAGS, 2, 0);                             // vpci_msi_arch_disable
    assert.equal(M[msi + VPCI_MSI.arch_pirq], INVALID_PIRQ);
    assert.equal(pci_conf_read16(DEV, MSI + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE, 0);
  });

  it('the arch hooks assert the owner\'s d->pci_lock or pcidevs_lock (vmsi.c:933, 881, 951)', () => {
    const w = boot(false), d0 = w.domains[0];
    set_current(w.vcpus[0][0]);
    const pdev = pdevOf(), msi = M[vpciOf() + VPCI.msi];
    assert.equal(outcomeOf(() => fn.vpci_msi_arch_enable(msi, pdev, 1)), 'assert', 'no lock held');
    assert.equal(M[msi + VPCI_MSI.arch_pirq], INVALID_PIRQ, 'the assertion comes before the PIRQ is recorded');
    write_lock(d0 + DOMAIN.pci_lock);
    assert.equal(fn.vpci_msi_arch_enable(msi, pdev, 1), 0);
    write_unlock(d0 + DOMAIN.pci_lock);
    assert.equal(outcomeOf(() => fn.vpci_msi_arch_update(msi, pdev)), 'assert');
    pcidevs_lock();
    fn.vpci_msi_arch_disable(msi, pdev);
    pcidevs_unlock();
    assert.equal(M[msi + VPCI_MSI.arch_pirq], INVALID_PIRQ);
  });
});

describe('the capability list, HEAD cap.c', () => {
  it('Dom0 walks the emulated list as the hardware has it: MSI-X, then MSI', () => {
    const w = boot(true);
    set_current(w.vcpus[0][0]);
    assert.deepEqual(walk(), [MSIX, MSI]);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSI);
  });

  it('a failed init_msi for Dom0: cleaned up, hidden from the list, its control read-only (cap.c:318-340)', () => {
    const w = boot(true);
    assert.equal(resetFailing(w, INIT_MSI), 0, 'the device keeps vPCI');
    assert.deepEqual(walk(), [MSIX], 'MSI-X\'s Next skips MSI');
    assert.equal(M[vpciOf() + VPCI.msi], NULL);
    assert.notEqual(M[vpciOf() + VPCI.msix], NULL);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSI, 'Dom0 still reads the ID from hardware');
    fn.vpci_write(DEV, MSI + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    assert.equal(pci_conf_read16(DEV, MSI + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE, 0, 'the enable write is dropped');
    assert.equal(fn.vpci_read(DEV, MSI + PCI_MSI_FLAGS, 2), pci_conf_read16(DEV, MSI + PCI_MSI_FLAGS));
  });

  it('a failed init_msix for Dom0: the pointer at 0x34 skips to MSI', () => {
    const w = boot(true);
    assert.equal(resetFailing(w, INIT_MSIX), 0);
    assert.deepEqual(walk(), [MSI]);
    assert.equal(M[vpciOf() + VPCI.msix], NULL);
    assert.equal(M[w.domains[0] + DOMAIN.msix_tables], NULL);
  });

  it('a failed vpci_init_header (late 2021\'s init_bars) fails the assign: vPCI torn down, no capability init ran (vpci.c:158-167)', () => {
    const w = boot(true);
    assert.equal(resetFailing(w, INIT_BARS), -12, '-ENOMEM from the header');
    assert.equal(vpciOf(), NULL, 'vpci_deassign_device freed it');
    assert.equal(M[w.domains[0] + DOMAIN.msix_tables], NULL, 'init_msix never ran');
    assert.equal(Atomics.load(M, xen(XEN.init_fail_next)), 0, 'the one-shot fault was taken');
  });

  it('a DomU whose init_msi fails gets the device with MSI hidden, not a failed assign (cap.c:327-340)', () => {
    const w = boot(true, { domUVcpus: [1], vpciGuestSupport: true, threads: 3 });
    const d1 = w.domains[1] as DomainPtr;
    set_current(w.vcpus[0][0]);
    failNext(INIT_MSI);
    pcidevs_lock();
    const rc = fn.assign_device(d1, DEV);
    pcidevs_unlock();
    assert.equal(rc, 0, 'cleanup_msi(hide) returns 0 for a DomU and the hide succeeds: nothing fails');
    assert.equal(M[pdevOf() + PCI_DEV.domain], d1);
    set_current(w.vcpus[1][0]);
    assert.deepEqual(walk(), [MSIX]);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_CAP_LIST_ID, 1), 0xff, 'the ID register is gone: unhandled, all-ones');
    assert.equal(fn.vpci_read(DEV, MSI + PCI_MSI_FLAGS, 2), 0xffff, 'no read-only control for a DomU');
    assert.equal(fn.vpci_read(DEV, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST, 'MSI-X is still listed');
  });

  it('a DomU without failures sees MSI-X and MSI, IDs from the hardware; enabling MSI disables INTx (msi.c:77-82)', () => {
    const w = boot(true, { domUVcpus: [1], vpciGuestSupport: true, threads: 3, bootAssign: [{ domain: 1, sbdf: DEV }] });
    set_current(w.vcpus[1][0]);
    assert.deepEqual(walk(), [MSIX, MSI]);
    assert.equal(fn.vpci_read(DEV, MSI + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSI);
    assert.equal(M[vpciOf() + VPCI.guest_cmd] & PCI_COMMAND_INTX_DISABLE, 0, 'INTx enabled before');
    fn.vpci_write(DEV, MSI + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
    fn.vpci_write(DEV, MSI + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);          // under the DomU's own pci_lock
    assert.equal(M[M[vpciOf() + VPCI.msi] + VPCI_MSI.arch_pirq], MSI_PIRQ_BASE);
    assert.equal(pci_conf_read16(DEV, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_INTX_DISABLE, 'pci_intx(pdev, false)');
    assert.equal(M[vpciOf() + VPCI.guest_cmd] & PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_INTX_DISABLE);
  });
});

describe('MSI scenarios under HEAD, every schedule within bounds', function () {
  this.timeout(120_000);
  let pool: TrialPool;
  before(() => { pool = createPool(2); });
  after(async () => { await pool.close(); });
  const INIT = 1 << FAULT_KINDS.indexOf('init');
  const run = async (name: string, strategy: string): Promise<VerifyResult> => {
    const { url, scenario } = await loadScenario(name);
    const o: VerifyOptions = { bound: 2, reduce: true, kinds: INIT, maxFaults: 1, maxRuns: 20_000, budgetMs: 60_000, seed: 1 };
    return verify(pool, url, scenario, strategy, o);
  };
  const kinds = (r: VerifyResult): string[] => Object.keys(r.outcomes).filter((o) => (r.outcomes as Record<string, unknown>)[o]).sort();

  it('init-msi-fail under upstream with --faults init: verified, the failing init_msi masked and no crash', async () => {
    const r = await run('init-msi-fail', 'upstream');
    assert.ok(r.complete, 'the search finished');
    assert.deepEqual(kinds(r), ['ok']);
    assert.equal(r.forbidden, 0);
  });

  it('hidden-msi: HEAD asserts in vpci_msi_arch_enable (dom_xen\'s pci_lock is not held); late 2021 is untouched', async () => {
    const head = await run('hidden-msi', 'upstream');
    assert.ok(head.complete);
    assert.deepEqual(kinds(head), ['assert']);
    assert.equal(head.firstFailure?.where, 'vpci_msi_arch_enable');
    assert.equal(head.firstFailure?.preemptions, 0, 'no race: one vCPU');
    assert.equal(head.forbidden, 0, 'the scenario expects it');
    const l21 = await run('hidden-msi', 'baseline');
    assert.deepEqual(kinds(l21), ['ok']);
  });

  it('hidden-msix and hidden-msix-remove: the MSI-X forms, each at 0 preemptions under HEAD only', async () => {
    for (const [name, outcome, where] of [['hidden-msix', 'assert', 'vpci_msix_arch_enable_entry'], ['hidden-msix-remove', 'use-after-free', 'msix_find']]) {
      const head = await run(name, 'upstream');
      assert.deepEqual(kinds(head), [outcome], name);
      assert.equal(head.firstFailure?.where, where, name);
      assert.equal(head.firstFailure?.preemptions, 0, name);
      assert.deepEqual(kinds(await run(name, 'baseline')), ['ok'], name);
    }
  });
});
