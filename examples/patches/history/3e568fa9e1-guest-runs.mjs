// Xen 3e568fa9e1 (Roger Pau Monné, 26 Nov 2018) "vpci: fix deferral of long operations", undone on the late-2021
// model (4ed7d5525f, the nearest generation to 2018: the same header.c logic, decided by the hardware COMMAND).
//
// The bug: "Current logic to handle long running operations is flawed because it doesn't prevent the guest vcpu
// from running." Before the fix the deferred map/unmap ran from hvm_io_pending (ioreq.c:88 at 3e568fa9e1^), which
// the return-to-guest path did not call: hvm_do_resume (hvm.c:512-546) went through handle_hvm_io_completion, which
// had no vPCI step; on VMX every VM entry called nvmx_switch_guest (vmx/entry.S:58), whose hvm_io_pending ran
// vpci_process_pending once and whose answer held nothing back: the vCPU entered the guest with the work unfinished,
// one chunk per VM entry (on SVM nothing called it on entry at all: the work waited for an I/O port access that
// asked to be retried, io.c:165). The fix moved the call into handle_hvm_io_completion, made a true answer return
// false with SCHEDULE_SOFTIRQ raised (so the vCPU is rescheduled, not run), and had defer_map raise
// SCHEDULE_SOFTIRQ too (header.c:187-192).
//
// The lab's return to the guest is vcpu_return_to_guest: hvm_do_resume until it lets the vCPU in. This patch gives
// it the 2018 entry path (one pass of vpci_process_pending, then into the guest whatever is left) and takes the
// softirq out of defer_map. What then goes wrong is in the scenario next to this file.
//
//   vpci-lab repro examples/patches/history/3e568fa9e1-guest-runs.scenario.mjs --strategy examples/patches/history/3e568fa9e1-guest-runs.mjs
import { M, chk, DOMAIN, VCPU, current, fn } from 'vpci-lab/model';

export default {
  name: 'pre-3e568fa9e1',
  base: 'l21',
  summary: 'late-2021 Xen with 3e568fa9e1 undone: the vCPU enters the guest while its deferred map/unmap is unfinished',
  source: '3e568fa9e1 (Nov 2018), reverted on 4ed7d5525f',
  replace: {
    hvm_do_resume: () => (v) => {
      const where = 'hvm_do_resume';
      const d = M[chk(v, VCPU, where) + VCPU.domain];
      // nvmx_switch_guest -> hvm_io_pending -> vpci_process_pending: one pass, its answer ignored.
      if (M[chk(d, DOMAIN, where) + DOMAIN.has_vpci]) fn.vpci_process_pending(v);
      M[v + VCPU.softirq_pending] = 0;
      return true;
    },
    // header.c:172-186 at 3e568fa9e1^: the slot is filled and nothing is raised.
    defer_map: (prev) => (pdev, mem, cmd, rom_only) => {
      prev(pdev, mem, cmd, rom_only);
      M[chk(current(), VCPU, 'defer_map') + VCPU.softirq_pending] = 0;
    },
  },
};
