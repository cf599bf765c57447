/*
 * The machine around Xen HEAD's compiled vPCI files, beside glue.c (which both generations share): HEAD's entry
 * points (vpci_assign_device / vpci_deassign_device, called with d->pci_lock held for writing by the lab's pci.c),
 * d->pci_lock as the lab's lock words, and HEAD's PCI helpers. Compiled only for a HEAD recipe (CX_XEN_HEAD).
 * What HEAD's files reach and the lab does not supply aborts naming itself (cx_not_supplied: a lab error, no outcome), never silently.
 */
#include "cx.h"


struct vcpu *cx_vcpu_mirror(int64_t lab);

/* cx_domain_pci_lock(domain, word of the lab domain's pci_lock): &d->pci_lock is the lab's lock */
CX_ENTRY(cx_domain_pci_lock)
{
    ((struct domain *)cx_ptr(a0))->cx_pci_lock = cx_ptr(a1);
    return 0;
}

/* The entries the lab's pci.c calls; `current` is the lab's current vCPU's mirror (NULL on the toolstack's CPU). */
CX_ENTRY(x_vpci_assign_device) { current = cx_vcpu_mirror(a1); return vpci_assign_device(cx_ptr(a0)); }
CX_ENTRY(x_vpci_deassign_device) { current = cx_vcpu_mirror(a1); vpci_deassign_device(cx_ptr(a0)); return 0; }
CX_ENTRY(x_vpci_reinit_ext_capabilities) { current = cx_vcpu_mirror(a1); return vpci_reinit_ext_capabilities(cx_ptr(a0)); }
#ifdef CX_PCI_C
#include "shim/pci-shim.h"
/* With pci.c compiled: the lab's boot runs setup_hwdom_pci_devices' step for a hidden device (pci.c:1317-1322,
 * 1285-1287) with the hardware domain's pci_lock held: the device is the hardware domain's for vpci_assign_device. */
CX_ENTRY(x_vpci_assign_hidden)
{
    struct pci_dev *pdev = cx_pci_find(a0);
    int rc;
    if ( !pdev )
        return -ENODEV;
    current = cx_vcpu_mirror(a1);
    pdev->domain = hardware_domain;
    rc = vpci_assign_device(pdev);
    pdev->domain = dom_xen;
    return rc;
}
CX_ENTRY(x_pci_device_reset) { current = cx_vcpu_mirror(a1); return PHYSDEVOP_pci_device_reset(a0); }
CX_ENTRY(x_pci_mmcfg_reserved) { current = cx_vcpu_mirror(a0); return PHYSDEVOP_pci_mmcfg_reserved(); }
#endif
/* What alloc_pdev (pci.c) reads from the device when it is made: its MSI and MSI-X capabilities. */
CX_ENTRY(cx_pdev_caps)
{
    struct pci_dev *pdev = cx_ptr(a0);
    pdev->msi_pos = pci_find_cap_offset(pdev->sbdf, PCI_CAP_ID_MSI);
    if ( pdev->msi_pos )
        pdev->msi_maxvec = multi_msi_capable(pci_conf_read16(pdev->sbdf, msi_control_reg(pdev->msi_pos)));
    pdev->msix_pos = pci_find_cap_offset(pdev->sbdf, PCI_CAP_ID_MSIX);
    return 0;
}
CX_ENTRY(cx_vcpu_pending_pdev) { return cx_word(((struct vcpu *)cx_ptr(a0))->vpci.pdev); }

/*
 * pci_get_pdev (pci.c:548-578 at HEAD): for NULL or the hardware domain, the segment's alldevs_list, which changes
 * under pcidevs_lock only while vpci_read/vpci_write hold just d->pci_lock; for another domain its pdev_list. Each
 * alldevs_list entry the walk reaches is a yield point, and so is the return, as in the model (lib/xen/head/pci.ts
 * and vpci.ts's vpci_read:after-lookup).
 */
#ifndef CX_PCI_C                         /* with pci.c compiled: its own, and glue.c's yield after it */
extern struct list_head *cx_alldevs(void);
struct pci_dev *pci_get_pdev(const struct domain *d, pci_sbdf_t sbdf)
{
    struct pci_dev *pdev;
    if ( !d || is_hardware_domain(d) )
    {
        for ( pdev = list_entry(cx_alldevs()->next, struct pci_dev, alldevs_list); &pdev->alldevs_list != cx_alldevs();
              pdev = list_entry(pdev->alldevs_list.next, struct pci_dev, alldevs_list) )
        {
            cx_js(CX_YIELD, 0, 0, 0, CX_PC());
            if ( pdev->sbdf.sbdf == sbdf.sbdf && (!d || pdev->domain == d) )
                goto found;
        }
        pdev = NULL;
        goto found;
    }
    list_for_each_entry ( pdev, &d->pdev_list, domain_list )
        if ( pdev->sbdf.sbdf == sbdf.sbdf )
            goto found;
    pdev = NULL;
 found:
    cx_js(CX_YIELD, 0, 0, 0, CX_PC());       /* the model's vpci_read:after-lookup: the device may go now */
    return pdev;
}
#endif

/* assign_virtual_sbdf's slot: the device's own while free (the lab's DomUs use host SBDFs), else the first free. */
unsigned int cx_guest_slot(unsigned long *map, unsigned int nr, const struct pci_dev *pdev)
{
    unsigned int i = pdev->sbdf.dev;
    if ( !pdev->sbdf.seg && !pdev->sbdf.bus && i < nr && !test_bit(i, map) )
        return i;
    for ( i = 0; i < nr && test_bit(i, map); i++ )
        ;
    return i;
}

/* Granted in the lab, as in lib/xen/head/header.ts map_range: no iomem or XSM policy is raced. */
bool iomem_access_permitted(const struct domain *d, unsigned long s, unsigned long e) { (void)d; (void)s; (void)e; return true; }
int xsm_iomem_mapping_vpci(int action, struct domain *d, unsigned long s, unsigned long e, bool map)
{
    (void)action; (void)d; (void)s; (void)e; (void)map;
    return 0;
}
/* The lab's BARs all sit in the MMIO hole: nothing to take out (x86's pci_sanitize_bar_memory). */
int pci_sanitize_bar_memory(struct rangeset *r) { (void)r; return 0; }

/* drivers/pci/pci.c's capability walks (HEAD: by SBDF, with a TTL), over the lab's config space. */
unsigned int pci_find_next_cap_ttl(pci_sbdf_t sbdf, unsigned int pos, const unsigned int caps[], unsigned int n, unsigned int *ttl)
{
    while ( (*ttl)-- )
    {
        unsigned int id, i;
        pos = pci_conf_read8(sbdf, pos);
        if ( pos < 0x40 )
            break;
        id = pci_conf_read8(sbdf, (pos & ~3) + PCI_CAP_LIST_ID);
        if ( id == 0xff )
            break;
        if ( !n )
            return pos;
        for ( i = 0; i < n; i++ )
            if ( id == caps[i] )
                return pos;
        pos = (pos & ~3) + PCI_CAP_LIST_NEXT;
    }
    return 0;
}
unsigned int pci_find_cap_offset(pci_sbdf_t sbdf, unsigned int cap)
{
    unsigned int ttl = 48;
    if ( !(pci_conf_read16(sbdf, PCI_STATUS) & PCI_STATUS_CAP_LIST) )
        return 0;
    return pci_find_next_cap_ttl(sbdf, PCI_CAPABILITY_LIST, &cap, 1, &ttl) & ~3;
}
/* drivers/pci/pci.c's pci_intx: INTx on or off in the device's COMMAND register. */
void pci_intx(const struct pci_dev *pdev, bool enable)
{
    uint16_t cmd = pci_conf_read16(pdev->sbdf, PCI_COMMAND);
    if ( enable )
        cmd &= ~PCI_COMMAND_INTX_DISABLE;
    else
        cmd |= PCI_COMMAND_INTX_DISABLE;
    pci_conf_write16(pdev->sbdf, PCI_COMMAND, cmd);
}

/* The lab's devices have no extended configuration space (pdev->ext_cfg false, as pci_check_extcfg leaves it). */
unsigned int pci_find_ext_capability(const struct pci_dev *pdev, unsigned int cap) { (void)pdev; (void)cap; return 0; }
unsigned int pci_find_next_ext_capability(const struct pci_dev *pdev, unsigned int start, unsigned int cap)
{
    (void)pdev; (void)start; (void)cap;
    return 0;
}

/* Only the debug keys' dump (vpci_dump_msi) try-locks: not supplied. */
int read_trylock(rwlock_t *l) { (void)l; NOT_SUPPLIED(read_trylock); }

/*
 * vpci_assign_device's call of vpci_init_header is a fault point, as late 2021's init_bars was (the model's
 * lib/xen/head/vpci.ts: x.failNext('init_bars'), verify's init faults): the recipe links with
 * --wrap=vpci_init_header, so vpci.c's call comes here and header.c's function is __real_vpci_init_header.
 */
int __real_vpci_init_header(struct pci_dev *pdev);
int __wrap_vpci_init_header(struct pci_dev *pdev)
{
    return cx_init_fault("init_bars") ? -ENOMEM : __real_vpci_init_header(pdev);
}
