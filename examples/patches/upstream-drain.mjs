// The lab's drain proposal as a patch file on Xen HEAD (the built-in `upstream-drain`, lib/strategy/upstream-drain.ts,
// is the same patch; a test checks both end every run the same way). Run it with:
//   vpci-lab repro stale-pdev --strategy ./examples/patches/upstream-drain.mjs
//   vpci-lab verify stale-pdev --strategy ./examples/patches/upstream-drain.mjs
// HEAD's vpci_process_pending loads v->vpci.pdev before taking d->pci_lock (header.c:179 vs 186), and nothing
// clears other vCPUs' v->vpci.pdev when pci_remove_device frees the pdev (C.3). The fix: load the slot under the
// lock, and have free_pdev empty every slot naming the pdev, each domain's vCPUs under that domain's write lock
// (defer_map stores into `current`, which may be another domain's vCPU), hwdom's last and across the free.
import {
  M, chk, NULL, DOMAIN, VCPU, read_lock, read_unlock, write_lock, write_unlock, yield_point, SITE,
  nr_domains, domain_by_index, hardware_domain, process_pending_locked,
} from 'vpci-lab/model';

function drain_domain(d, pdev, where) {
  for (let j = 0; j < M[chk(d, DOMAIN, where) + DOMAIN.max_vcpus]; j++) {
    const v = M[d + DOMAIN.vcpu + j];
    yield_point(SITE.vpci_cancel_pending);
    if (M[chk(v, VCPU, where) + VCPU.vpci_pdev] === pdev) M[v + VCPU.vpci_pdev] = NULL;
  }
}

export default {
  name: 'drain-example',
  base: 'upstream',
  summary: 'the lab\'s drain proposal on HEAD, as a patch file',
  replace: {
    vpci_process_pending: () => (v) => {
      const d = M[chk(v, VCPU, 'vpci_process_pending') + VCPU.domain];
      if (M[v + VCPU.vpci_pdev] === NULL) return false;          // an unlocked peek only decides whether to lock
      read_lock(chk(d, DOMAIN, 'vpci_process_pending') + DOMAIN.pci_lock);
      const pdev = M[v + VCPU.vpci_pdev];                         // header.c:179, moved under the lock
      if (pdev === NULL) { read_unlock(d + DOMAIN.pci_lock); return false; }
      return process_pending_locked(v, pdev, d);
    },
    free_pdev: (prev) => (pdev) => {
      const where = 'vpci_drain_pending', hwdom = hardware_domain();
      for (let i = 0; i < nr_domains(); i++) {
        const d = domain_by_index(i);
        if (d === hwdom) continue;
        write_lock(chk(d, DOMAIN, where) + DOMAIN.pci_lock);
        drain_domain(d, pdev, where);
        write_unlock(d + DOMAIN.pci_lock);
      }
      write_lock(chk(hwdom, DOMAIN, where) + DOMAIN.pci_lock);
      drain_domain(hwdom, pdev, where);
      prev(pdev);
      write_unlock(hwdom + DOMAIN.pci_lock);
    },
  },
};
