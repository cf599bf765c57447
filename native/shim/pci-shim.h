/*
 * What xen/drivers/passthrough/pci.c needs beyond the vPCI files' shim (xen-shim.h), for the part of it the lab's
 * paths reach (lib/cxen/extract.ts keeps pci_add_device, pci_remove_device, assign_device, deassign_device and
 * what they call; the rest of the file is blanked). Declared here, supplied by native/pci-glue.c: the segment
 * table (Xen's radix tree), the IOMMU as the lab's hooks (its fault points), dom_io and quarantine, the MSI and
 * XSM hooks. Anything else the compiled part calls is a generated stub that crashes naming the symbol.
 *
 * pci.c's own globals that change are per machine here (a process runs many machines, one per trial): the
 * segment table lives in the machine's heap, and pcidevs_lock is the lab's lock word (its three wrappers and the
 * static lock are left out of the compiled text and supplied by glue.c).
 */
#ifndef CX_PCI_SHIM_H
#define CX_PCI_SHIM_H

#include "xen-shim.h"

/* The vPCI files' lookups yield after returning (xen-shim.h); pci.c defines the lookup itself. */
#undef pci_get_pdev

#define PCI_VENDOR_ID_INTEL 0x8086
#define __hwdom_init
#define __rcu
#define XENLOG_GUEST ""
#define evaluate_nospec(c) (c)
#define block_lock_speculation() ((void)0)
#define EXDEV 18
#define EBADF 9
#define PCI_SRIOV_NUM_BARS 6
#ifndef PCI_HEADER_TYPE_CARDBUS
#define PCI_HEADER_TYPE_CARDBUS 2
#endif

/* Segments: Xen's radix tree, the lab's small table on the machine's heap. */
struct radix_tree_root { unsigned int n; unsigned long key[8]; void *val[8]; };
void radix_tree_init(struct radix_tree_root *root);
void *radix_tree_lookup(struct radix_tree_root *root, unsigned long index);
int radix_tree_insert(struct radix_tree_root *root, unsigned long index, void *item);
unsigned int radix_tree_gang_lookup(struct radix_tree_root *root, void **results, unsigned long first, unsigned int max);
struct radix_tree_root *cx_pci_segments(void);
#define pci_segments (*cx_pci_segments())

/* IOMMU: the lab's (pci-glue.c). add_device carries the lab's 'iommu' fault point; assign and reassign move the
 * device between domains' lists as VT-d's reassign_device_ownership does (vtd/iommu.c, 4.17: list_move). */
typedef struct pci_dev device_t;
#define pci_to_dev(p) (p)
struct iommu_ops {
    int (*quarantine_init)(device_t *dev, bool scratch_page);
    int (*add_device)(uint8_t devfn, device_t *dev);
    int (*enable_device)(device_t *dev);
    int (*remove_device)(uint8_t devfn, device_t *dev);
    int (*assign_device)(struct domain *d, uint8_t devfn, device_t *dev, uint32_t flag);
    int (*reassign_device)(struct domain *s, struct domain *t, uint8_t devfn, device_t *dev);
};
struct domain_iommu { const struct iommu_ops *platform_ops; };
struct domain_iommu *cx_dom_iommu(const struct domain *d);
#define dom_iommu(d) cx_dom_iommu(d)
#define iommu_call(ops, fn, args...) ((ops)->fn(args))
bool is_iommu_enabled(const struct domain *d);
bool arch_iommu_use_permitted(const struct domain *d);
int iommu_quarantine_dev_init(device_t *dev);
bool cx_iommu_quarantine(void);
#define iommu_quarantine cx_iommu_quarantine()
extern __thread struct domain *cx_dom_io;
#define dom_io cx_dom_io

/* MSI and arch hooks: the lab has no MSI state of pci.c's (lib/xen models none: pci_cleanup_msi is a yield point). */
void arch_pci_init_pdev(struct pci_dev *pdev);
int pdev_msi_init(struct pci_dev *pdev);
void pdev_msi_deinit(struct pci_dev *pdev);
void pci_cleanup_msi(struct pci_dev *pdev);
int pdev_msix_assign(struct domain *d, struct pci_dev *pdev);

/* XSM: Dom0 is privileged. */
#define XSM_PRIV 0
int xsm_resource_plug_pci(int action, uint32_t machine_bdf);
int xsm_resource_unplug_pci(int action, uint32_t machine_bdf);

enum pdev_type pdev_type(u16 seg, u8 bus, u8 devfn);
#ifdef CX_XEN_HEAD
void pci_check_extcfg(struct pci_dev *pdev);
#endif
#define bool_t bool

/* The entries the lab calls (appended to the compiled text by lib/cxen/build.ts: assign_device is static). */
int cx_pci_add(uint32_t sbdf);
int cx_pci_remove(uint32_t sbdf);
int cx_pci_assign(struct domain *d, uint32_t sbdf);
int cx_pci_deassign(struct domain *d, uint32_t sbdf);
int cx_pci_hide(uint32_t sbdf);
struct pci_dev *cx_pci_alloc(uint32_t sbdf);
struct pci_dev *cx_pci_find(uint32_t sbdf);
int PHYSDEVOP_pci_device_reset(uint32_t sbdf);
int PHYSDEVOP_pci_mmcfg_reserved(void);

#endif
