/*
 * The lab's entries into passthrough/pci.c, appended to its compiled text (lib/cxen/build.ts): assign_device,
 * deassign_device and alloc_pdev are static there. Not compiled on its own. The domctl steps are
 * iommu_do_pci_domctl's: XEN_DOMCTL_assign_device is device_assigned then assign_device, both under the
 * pcidevs_lock the lab's hypercall layer holds (lib/xen/hypercall.ts).
 */
#define CX_SEG(s) ((s) >> 16)
#define CX_BUS(s) (((s) >> 8) & 0xff)
#define CX_DEVFN(s) ((s) & 0xff)
int cx_pci_add(uint32_t sbdf)
{
    return pci_add_device(CX_SEG(sbdf), CX_BUS(sbdf), CX_DEVFN(sbdf), NULL, NUMA_NO_NODE);
}
int cx_pci_remove(uint32_t sbdf)
{
    return pci_remove_device(CX_SEG(sbdf), CX_BUS(sbdf), CX_DEVFN(sbdf));
}
int cx_pci_assign(struct domain *d, uint32_t sbdf)
{
    int rc = device_assigned(CX_SEG(sbdf), CX_BUS(sbdf), CX_DEVFN(sbdf));

    return rc ? rc : assign_device(d, CX_SEG(sbdf), CX_BUS(sbdf), CX_DEVFN(sbdf), 0);
}
int cx_pci_deassign(struct domain *d, uint32_t sbdf)
{
    return deassign_device(d, CX_SEG(sbdf), CX_BUS(sbdf), CX_DEVFN(sbdf));
}
int cx_pci_hide(uint32_t sbdf)
{
    return pci_hide_device(CX_SEG(sbdf), CX_BUS(sbdf), CX_DEVFN(sbdf));
}
struct pci_dev *cx_pci_alloc(uint32_t sbdf)
{
    struct pci_seg *pseg = alloc_pseg(CX_SEG(sbdf));

    return pseg ? alloc_pdev(pseg, CX_BUS(sbdf), CX_DEVFN(sbdf)) : NULL;
}
void cx_pci_init(void)
{
    pci_segments_init();
}
