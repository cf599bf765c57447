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
/* Segment 0, as 4.17's pci_segments_init makes it at boot (HEAD's table is static; its segments come on demand). */
void cx_pci_init(void)
{
    alloc_pseg(0);
}
/* The device of sbdf on its segment's list, for the lab's boot (nothing else runs yet: no lock). */
struct pci_dev *cx_pci_find(uint32_t sbdf)
{
    const struct pci_seg *pseg = get_pseg(CX_SEG(sbdf));
    struct pci_dev *pdev;

    if ( !pseg )
        return NULL;
    list_for_each_entry ( pdev, &pseg->alldevs_list, alldevs_list )
        if ( pdev->sbdf.sbdf == sbdf )
            return pdev;
    return NULL;
}
#ifdef CX_XEN_HEAD
/*
 * The physdev sub-ops at HEAD, the lab's transliterations (drivers/pci/physdev.c and x86/physdev.c are not
 * compiled: their guest-handle copies are the hypercall's, the lab's). PHYSDEVOP_pci_device_reset, physdev.c:96-120,
 * for any of the four reset kinds; PHYSDEVOP_pci_mmcfg_reserved for an area covering the lab's every bus, with
 * physdev_check_pci_extcfg (x86/physdev.c:168-188) as the handler of pci.c's own pci_segment_iterate. Named after
 * the sub-ops, as the model's sites are, so that a crash in them is reported where the model reports it.
 */
int PHYSDEVOP_pci_device_reset(uint32_t sbdf)
{
    struct pci_dev *pdev;
    int ret;

    pcidevs_lock();
    pdev = pci_get_pdev(NULL, (pci_sbdf_t){ .sbdf = sbdf });
    if ( !pdev )
    {
        pcidevs_unlock();
        return -ENODEV;
    }
    write_lock(&pdev->domain->pci_lock);
    pcidevs_unlock();
    ret = vpci_reset_device(pdev);
    write_unlock(&pdev->domain->pci_lock);
    return ret;
}
static int cf_check cx_check_pci_extcfg(struct pci_dev *pdev, void *arg)
{
    (void)arg;
    pci_check_extcfg(pdev);
    vpci_reinit_ext_capabilities(pdev);
    return 0;
}
int PHYSDEVOP_pci_mmcfg_reserved(void)
{
    return pci_segment_iterate(0, cx_check_pci_extcfg, NULL);
}
#endif
