// Which files of a Xen tree the C backend compiles, per generation of Xen: the link order matters (the vPCI init
// hooks or capabilities register through one linker section and run in link order), and the headers listed are
// Xen's pure ones, copied from the tree with their #include lines stripped; the shim (native/shim/) stands in for
// every other header. build.ts compiles a recipe; select.ts picks it from the tree's generation.

/** One Xen generation's recipe: which files of the tree are compiled, in link order (init hooks run in it). */
export interface XenRecipe {
  name: string;
  sources: readonly string[];
  headers: readonly string[];
  /** -D flags that select the shim's generation (e.g. the HEAD declarations); none for 4.17. */
  defines?: readonly string[];
  /** The lab's own C files of this generation (under native/), compiled and instrumented like glue.c. */
  lab?: readonly string[];
  /** Extra link flags (HEAD: --wrap to put a fault point on a call between two of Xen's files). */
  linkFlags?: readonly string[];
  /** passthrough/pci.c is compiled too (its reached part, lib/cxen/pci-build.ts; -DCX_PCI_C for the lab's C). */
  pciC?: boolean;
}

/** Xen 4.17 (Debian bookworm's 4.17.5): msix, header, msi give REGISTER_VPCI_INIT's priority order 1, 5, 9. */
export const XEN_417: XenRecipe = {
  name: '4.17',
  sources: ['xen/drivers/vpci/msix.c', 'xen/drivers/vpci/header.c', 'xen/drivers/vpci/msi.c', 'xen/drivers/vpci/vpci.c', 'xen/common/rangeset.c'],
  headers: ['xen/include/xen/list.h', 'xen/include/xen/pci_regs.h', 'xen/include/xen/rangeset.h', 'xen/include/xen/vpci.h'],
  lab: ['msix-mmio.c', 'vmsi-417.c'],
  pciC: true,
};

/**
 * Xen HEAD (4.19 on; c447b7308b): drivers/vpci/Makefile builds cap, vpci, header, rebar, msi, msix for x86
 * (msi and msix under HAS_PCI_MSI); cap.c's capability array is their link order (rebar, msi, msix). private.h is
 * the tree's. CONFIG_HAS_VPCI_GUEST_SUPPORT (Arm's) is compiled in: it only acts for a DomU that has vPCI, which
 * the lab gives on `vpciGuestSupport` machines alone, as the model does; x86's DomUs have none.
 */
export const XEN_HEAD: XenRecipe = {
  name: 'HEAD',
  sources: ['xen/drivers/vpci/cap.c', 'xen/drivers/vpci/vpci.c', 'xen/drivers/vpci/header.c', 'xen/drivers/vpci/rebar.c',
    'xen/drivers/vpci/msi.c', 'xen/drivers/vpci/msix.c', 'xen/common/rangeset.c'],
  headers: ['xen/include/xen/list.h', 'xen/include/xen/pci_regs.h', 'xen/include/xen/rangeset.h', 'xen/include/xen/vpci.h',
    'xen/drivers/vpci/private.h'],
  defines: ['-DCX_XEN_HEAD', '-DCONFIG_HAS_VPCI_GUEST_SUPPORT'],
  lab: ['glue-head.c', 'vmsi-head.c', 'msix-mmio.c'],
  linkFlags: ['-Wl,--wrap=vpci_init_header'],
  pciC: true,
};
