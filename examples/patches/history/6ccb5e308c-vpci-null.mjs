// Xen 6ccb5e308c (Roger Pau Monné, 26 Oct 2022) "vpci: don't assume that vpci per-device data exists
// unconditionally", undone on Xen HEAD (c447b7308b): the code as it was before the fix, in HEAD's shape.
//
// The bug: a device can belong to a domain and have no `struct vpci`; vpci_read, vpci_write and vpci_remove_device
// (vpci_deassign_device at HEAD, f20dde9259) then dereference a NULL pdev->vpci. The fix added `|| !pdev->vpci`:
//   vpci.c:505  vpci_read             if ( !pdev || !pdev->vpci ) return vpci_read_hw(...)
//   vpci.c:629  vpci_write            if ( !pdev || !pdev->vpci ) { vpci_write_hw(...); return; }
//   vpci.c:96   vpci_deassign_device  if ( !has_vpci(pdev->domain) || !pdev->vpci ) return;
// This patch removes exactly those three checks; everything else is HEAD's code (lib/xen/head/vpci.ts).
//
// In 2022 the vpci-less device came from a failed deferred map (vpci_process_pending called vpci_remove_device);
// HEAD no longer does that (622bdd9628), and the late-2021 model still does: under `baseline` a failed
// map_mmio_regions followed by any assign, deassign or remove is the original crash (`vpci-lab verify crash-path-4
// --strategy baseline --faults map`). At HEAD a device sits on the hardware domain's lists with no vpci in the
// windows of assign_device and deassign_device (pci.c:1616-1650, 933-951: vPCI torn down under the owner's lock,
// the device moved by the IOMMU code, vPCI set up again under the new owner's lock), and after a vpci_assign_device
// that failed (-ENOMEM) in deassign_device. The scenario next to this file reads the device in those windows.
//
//   vpci-lab repro examples/patches/history/6ccb5e308c-vpci-null.scenario.mjs --strategy examples/patches/history/6ccb5e308c-vpci-null.mjs
//   vpci-lab verify examples/patches/history/6ccb5e308c-vpci-null.scenario.mjs --strategy examples/patches/history/6ccb5e308c-vpci-null.mjs
import {
  M, chk, NULL, ASSERT, DOMAIN, PCI_DEV, VPCI, VPCI_REGISTER, VCPU, current, dom_xen, fn, read_lock, read_unlock, write_lock,
  write_unlock, spin_lock, spin_unlock, yield_point, SITE, list_next, callRead, merge_result, vpci_register_cmp, vpci_write_helper,
} from 'vpci-lab/model';

const sizeMask = (size) => (size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1);
const currentDomain = (where) => M[chk(current(), VCPU, where) + VCPU.domain];

/** vpci.c:176-199 translate_virtual_device: a DomU (with DomU vPCI) finds its device on d->pdev_list. */
function translate_virtual_device(d, sbdf, where) {
  for (let p = M[d + DOMAIN.pdev_list]; p !== NULL; p = list_next(p, PCI_DEV.domain_next, where)) {
    if (M[chk(p, PCI_DEV, where) + PCI_DEV.vpci] !== NULL && M[p + PCI_DEV.sbdf] === sbdf) return p;
  }
  return NULL;
}

/** vpci.c:495-503 / 619-627: the hardware domain looks with pci_get_pdev, then among dom_xen's; a DomU translates. */
function lookup(d, sbdf, where) {
  if (!M[chk(d, DOMAIN, where) + DOMAIN.is_hardware_domain]) return translate_virtual_device(d, sbdf, where);
  const pdev = fn.pci_get_pdev(d, sbdf, where);
  return pdev !== NULL ? pdev : fn.pci_get_pdev(dom_xen(), sbdf, where);
}

/** pdev->vpci read afresh at each use, as vpci_read and vpci_write do (vpci.c:511, 514, 549; 641, 644, 676). */
function pdevVpci(pdev, where) {
  return chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
}

/** vpci_read (vpci.c:475-568) before 6ccb5e308c: a device found is assumed to have vpci. */
function vpci_read(sbdf, reg, size) {
  const where = 'vpci_read';
  if (size === 0) return 0xffffffff;
  const d = currentDomain(where);
  read_lock(d + DOMAIN.pci_lock);
  const pdev = lookup(d, sbdf, where);
  yield_point(SITE['vpci_read:after-lookup']);
  if (pdev === NULL) {                                            // vpci.c:505, without `|| !pdev->vpci`
    read_unlock(d + DOMAIN.pci_lock);
    return fn.vpci_read_hw(sbdf, reg, size);
  }
  spin_lock(pdevVpci(pdev, where) + VPCI.lock);                  // spin_lock(&pdev->vpci->lock)
  let data = 0xffffffff, off = 0;
  for (let r = M[pdevVpci(pdev, where) + VPCI.handlers]; r !== NULL; r = M[r + VPCI_REGISTER.next]) {
    chk(r, VPCI_REGISTER, where);
    const emuOff = reg + off, emuSize = size - off;
    const roff = M[r + VPCI_REGISTER.offset], rsize = M[r + VPCI_REGISTER.size];
    const cmp = vpci_register_cmp(emuOff, emuSize, roff, rsize);
    if (cmp < 0) break;
    if (cmp > 0) continue;
    if (emuOff < roff) {
      const n = roff - emuOff;
      data = merge_result(data, fn.vpci_read_hw(sbdf, emuOff, n), n, off);
      off += n;
    }
    let val = callRead(M[r + VPCI_REGISTER.read], pdev, roff, M[r + VPCI_REGISTER.private]) >>> 0;
    val = (val & ~(M[r + VPCI_REGISTER.rsvdp_mask] | M[r + VPCI_REGISTER.rsvdz_mask])) >>> 0;
    if (roff < emuOff) val >>>= (emuOff - roff) * 8;
    const n = Math.min(emuOff + emuSize, roff + rsize) - Math.max(emuOff, roff);
    data = merge_result(data, val, n, off);
    off += n;
    if (off === size) break;
    ASSERT(off < size, where, 'data_offset < size');
  }
  spin_unlock(pdevVpci(pdev, where) + VPCI.lock);
  read_unlock(d + DOMAIN.pci_lock);
  if (off < size) data = merge_result(data, fn.vpci_read_hw(sbdf, reg + off, size - off), size - off, off);
  return (data & sizeMask(size)) >>> 0;
}

/** vpci_write (vpci.c:596-683) before 6ccb5e308c. */
function vpci_write(sbdf, reg, size, data) {
  const where = 'vpci_write';
  if (size === 0) return;
  const d = currentDomain(where);
  write_lock(d + DOMAIN.pci_lock);
  const pdev = lookup(d, sbdf, where);
  yield_point(SITE['vpci_write:after-lookup']);
  if (pdev === NULL) {                                            // vpci.c:629, without `|| !pdev->vpci`
    write_unlock(d + DOMAIN.pci_lock);
    fn.vpci_write_hw(sbdf, reg, size, data);
    return;
  }
  spin_lock(pdevVpci(pdev, where) + VPCI.lock);                  // spin_lock(&pdev->vpci->lock)
  let off = 0;
  for (let r = M[pdevVpci(pdev, where) + VPCI.handlers]; r !== NULL; r = M[r + VPCI_REGISTER.next]) {
    chk(r, VPCI_REGISTER, where);
    const emuOff = reg + off, emuSize = size - off;
    const roff = M[r + VPCI_REGISTER.offset], rsize = M[r + VPCI_REGISTER.size];
    const cmp = vpci_register_cmp(emuOff, emuSize, roff, rsize);
    if (cmp < 0) break;
    if (cmp > 0) continue;
    if (emuOff < roff) {
      fn.vpci_write_hw(sbdf, emuOff, roff - emuOff, data >>> (off * 8));
      off += roff - emuOff;
    }
    const n = Math.min(emuOff + emuSize, roff + rsize) - Math.max(emuOff, roff);
    vpci_write_helper(pdev, r, n, reg + off - roff, data >>> (off * 8));
    off += n;
    if (off === size) break;
    ASSERT(off < size, where, 'data_offset < size');
  }
  spin_unlock(pdevVpci(pdev, where) + VPCI.lock);
  write_unlock(d + DOMAIN.pci_lock);
  if (off < size) fn.vpci_write_hw(sbdf, reg + off, size - off, data >>> (off * 8));
}

export default {
  name: 'pre-6ccb5e308c',
  base: 'head',
  summary: 'Xen HEAD with 6ccb5e308c undone: vpci_read, vpci_write, vpci_deassign_device assume pdev->vpci',
  source: '6ccb5e308c (Oct 2022), reverted on c447b7308b',
  replace: {
    vpci_read: () => vpci_read,
    vpci_write: () => vpci_write,
    // vpci.c:96 without `|| !pdev->vpci`: the next line reads pdev->vpci->guest_sbdf (vpci.c:100) through NULL.
    vpci_deassign_device: (prev) => (pdev) => {
      const where = 'vpci_deassign_device';
      const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
      if (M[chk(d, DOMAIN, where) + DOMAIN.has_vpci] && M[pdev + PCI_DEV.vpci] === NULL) chk(NULL, VPCI, where);
      prev(pdev);
    },
  },
};
