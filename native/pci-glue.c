/*
 * The lab's side of the compiled passthrough/pci.c (native/shim/pci-shim.h declares it): the segment table,
 * the IOMMU as lab hooks, dom_io and quarantine, and the MSI, XSM and arch hooks pci.c calls. Compiled with
 * -fsanitize=thread like Xen's files: the segment table is on the machine's heap and its accesses are checked
 * and recorded.
 *
 * The IOMMU is what the TypeScript model has in lib/xen: add_device is the lab's iommu_add_device (the 'iommu'
 * fault point, lib/xen/pci.ts) with the model's yield points around it; assign and reassign are VT-d's ownership
 * move (vtd/iommu.c reassign_device_ownership: list_move to the target's list, pdev->domain = target), with no
 * context tables and no RMRRs to map.
 */
#include "cx.h"
#ifdef CX_PCI_C                          /* compiled into every build, empty where pci.c is not (recipes.ts pciC) */
#include "shim/pci-shim.h"

#define YIELD(k) cx_js(CX_YIELD, (k), 0, 0, CX_PC())

/* ---- segments: Xen's radix tree, a small table (the lab's machines have segment 0) ---- */
void radix_tree_init(struct radix_tree_root *root) { root->n = 0; }
void *radix_tree_lookup(struct radix_tree_root *root, unsigned long index)
{
    for ( unsigned int i = 0; i < root->n; i++ )
        if ( root->key[i] == index )
            return root->val[i];
    return NULL;
}
int radix_tree_insert(struct radix_tree_root *root, unsigned long index, void *item)
{
    if ( radix_tree_lookup(root, index) )
        return -EEXIST;
    if ( root->n >= ARRAY_SIZE(root->key) )
        return -ENOMEM;
    root->key[root->n] = index;
    root->val[root->n++] = item;
    return 0;
}
unsigned int radix_tree_gang_lookup(struct radix_tree_root *root, void **results, unsigned long first, unsigned int max)
{
    unsigned int found = 0;
    for ( unsigned long k = first; found < max && k <= 0xffff; k++ )
    {
        void *v = radix_tree_lookup(root, k);
        if ( v )
            results[found++] = v;
    }
    return found;
}

/* ---- the IOMMU ---- */
static int lab_add_device(uint8_t devfn, struct pci_dev *pdev)
{
    int rc;
    (void)devfn;
    YIELD(Y_BEFORE_IOMMU_ADD);
    rc = (int)cx_js(CX_IOMMU_ADD, (double)cx_word(pdev), 0, 0, CX_PC());
    if ( rc )
        YIELD(Y_IOMMU_FAILED);
    return rc;
}
static int lab_remove_device(uint8_t devfn, struct pci_dev *pdev) { (void)devfn; (void)pdev; return 0; }
static int lab_reassign_device(struct domain *s, struct domain *t, uint8_t devfn, struct pci_dev *pdev)
{
    if ( devfn == pdev->devfn && pdev->domain != t )
    {
#ifdef CX_XEN_HEAD                       /* HEAD's vtd/iommu.c: each list under its domain's pci_lock */
        write_lock(&s->pci_lock);
        list_del(&pdev->domain_list);
        write_unlock(&s->pci_lock);
        pdev->domain = t;
        write_lock(&t->pci_lock);
        list_add(&pdev->domain_list, &t->pdev_list);
        write_unlock(&t->pci_lock);
#else
        (void)s;
        list_move(&pdev->domain_list, &t->pdev_list);
        pdev->domain = t;
#endif
    }
    return 0;
}
static int lab_assign_device(struct domain *d, uint8_t devfn, struct pci_dev *pdev, uint32_t flag)
{
    (void)flag;
    return lab_reassign_device(pdev->domain, d, devfn, pdev);
}
static const struct iommu_ops lab_iommu = {
    .add_device = lab_add_device,
    .remove_device = lab_remove_device,
    .assign_device = lab_assign_device,
    .reassign_device = lab_reassign_device,
};
static struct domain_iommu lab_domain_iommu = { .platform_ops = &lab_iommu };
struct domain_iommu *cx_dom_iommu(const struct domain *d) { (void)d; return &lab_domain_iommu; }
/* Every domain the lab makes has the IOMMU on (the model's assign and deassign assume it), dom_xen's devices aside. */
bool is_iommu_enabled(const struct domain *d) { return d && d != dom_xen; }
bool arch_iommu_use_permitted(const struct domain *d) { (void)d; return true; }
int iommu_quarantine_dev_init(device_t *dev) { (void)dev; return 0; }

/* ---- MSI and arch hooks: pdev_msi_init's vPCI-visible part; no arch_msix (the MSI-X table is the model's) ---- */
void arch_pci_init_pdev(struct pci_dev *pdev) { (void)pdev; }
int pdev_msi_init(struct pci_dev *pdev)
{
    INIT_LIST_HEAD(&pdev->msi_list);
#ifdef CX_XEN_HEAD                       /* passthrough/msi.c:21-45 at HEAD: where vPCI's msi.c and msix.c look */
    unsigned int pos = pci_find_cap_offset(pdev->sbdf, PCI_CAP_ID_MSI);
    if ( pos )
    {
        pdev->msi_pos = pos;
        pdev->msi_maxvec = multi_msi_capable(pci_conf_read16(pdev->sbdf, msi_control_reg(pos)));
    }
    pdev->msix_pos = pci_find_cap_offset(pdev->sbdf, PCI_CAP_ID_MSIX);
#else                                    /* passthrough/msi.c:27-34 at 4.17.5: msi.c's control_write caps vectors by it */
    unsigned int pos = pci_find_cap_offset(pdev->seg, pdev->bus, PCI_SLOT(pdev->devfn), PCI_FUNC(pdev->devfn), PCI_CAP_ID_MSI);
    if ( pos )
        pdev->msi_maxvec = multi_msi_capable(pci_conf_read16(pdev->sbdf, msi_control_reg(pos)));
#endif
    return 0;
}
void pdev_msi_deinit(struct pci_dev *pdev) { (void)pdev; YIELD(Y_REMOVE_BEFORE_FREE); }
void pci_cleanup_msi(struct pci_dev *pdev) { (void)pdev; YIELD(Y_REMOVE_AFTER_VPCI); }
int pdev_msix_assign(struct domain *d, struct pci_dev *pdev) { (void)d; (void)pdev; return 0; }
int xsm_resource_plug_pci(int action, uint32_t machine_bdf) { (void)action; (void)machine_bdf; return 0; }
int xsm_resource_unplug_pci(int action, uint32_t machine_bdf) { (void)action; (void)machine_bdf; return 0; }

#ifndef CX_XEN_HEAD                      /* HEAD's (by device) is glue-head.c's */
/* ---- capabilities in extended config space: the lab's hardware has none past 0x100 unless it says so ---- */
unsigned int pci_find_ext_capability(int seg, int bus, int devfn, int cap)
{
    pci_sbdf_t s = PCI_SBDF(seg, bus, devfn >> 3, devfn & 7);
    unsigned int pos = 0x100, ttl = 480;
    uint32_t header = pci_conf_read32(s, pos);

    if ( header == 0 || header == 0xffffffffu )
        return 0;
    while ( ttl-- > 0 )
    {
        if ( (header & 0xffff) == (unsigned int)cap && pos )
            return pos;
        pos = (header >> 20) & ~3u;
        if ( pos < 0x100 )
            break;
        header = pci_conf_read32(s, pos);
    }
    return 0;
}
#endif
#endif
