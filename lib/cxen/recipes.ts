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
}

/** Xen 4.17 (Debian bookworm's 4.17.5): msix, header, msi give REGISTER_VPCI_INIT's priority order 1, 5, 9. */
export const XEN_417: XenRecipe = {
  name: '4.17',
  sources: ['xen/drivers/vpci/msix.c', 'xen/drivers/vpci/header.c', 'xen/drivers/vpci/msi.c', 'xen/drivers/vpci/vpci.c', 'xen/common/rangeset.c'],
  headers: ['xen/include/xen/list.h', 'xen/include/xen/pci_regs.h', 'xen/include/xen/rangeset.h', 'xen/include/xen/vpci.h'],
};
