/*
 * x86's MSI-X arch hooks for 4.17's compiled msix.c (xen/arch/x86/hvm/vmsi.c:664-892 at 4.17.5), the lab's C, as
 * the model keeps them for late 2021 (lib/xen/vmsi.ts): a bound PIRQ is entry->arch.pirq plus the device's own
 * table entry programmed with the guest's message; pt_irq_*_bind, the event lock and the IRQ descriptors are not
 * modelled. Kept exactly are the locks and the checks: enabling and disabling take pcidevs_lock (vmsi.c:864, 801)
 * inside the vpci->lock their callers (msix_write, control_write) hold, vpci_msi_update asserts it (vmsi.c:687),
 * and the PIRQ asserts. Compiled (and instrumented) only for a 4.17 recipe; MSI's hooks are not supplied yet.
 */
#include "cx.h"

#define INVALID_PIRQ (-1)
#define PIRQ_BASE 32                     /* MSI-X entry nr's PIRQ (lib/xen/vmsi.ts) */
#define MSI_ADDR_BASE_MASK (~0xfffff)    /* an int: sign-extended, the upper half must be 0 */
#define MSI_ADDR_HEADER 0xfee00000

static void msix_entry_write(const struct pci_dev *pdev, unsigned int nr, unsigned int off, uint32_t val)
{
    cx_js(CX_MSIX_ENTRY_WRITE, pdev->sbdf.sbdf, (nr << 16) | off, val, CX_PC());
}

/* vpci_mask_pirq (vmsi.c:664-673): guest_mask_msi_irq through the PIRQ, the device entry's mask bit. */
static void vpci_mask_pirq(const struct pci_dev *pdev, int pirq, bool mask)
{
    msix_entry_write(pdev, pirq - PIRQ_BASE, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, mask ? PCI_MSIX_VECTOR_BITMASK : 0);
}

/* vpci_msi_update (vmsi.c:681-720) for one MSI-X vector: binding is programming the device's entry. */
static int vpci_msi_update(const struct pci_dev *pdev, const struct vpci_msix_entry *entry, int pirq)
{
    unsigned int nr = pirq - PIRQ_BASE;
    ASSERT(pcidevs_locked());
    if ( (entry->addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_HEADER )
        return -EOPNOTSUPP;
    msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, (uint32_t)entry->addr);
    msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, entry->addr >> 32);
    msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_DATA_OFFSET, entry->data);
    vpci_mask_pirq(pdev, pirq, entry->masked);
    return 0;
}

/* vpci_msi_disable (vmsi.c:795-818): unbind and unmap the PIRQ under pcidevs_lock; the entry ends masked. */
static void vpci_msi_disable(const struct pci_dev *pdev, int pirq)
{
    ASSERT(pirq != INVALID_PIRQ);
    pcidevs_lock();
    vpci_mask_pirq(pdev, pirq, true);
    pcidevs_unlock();
}

void vpci_msix_arch_mask_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, bool mask)
{
    if ( entry->arch.pirq != INVALID_PIRQ )
        vpci_mask_pirq(pdev, entry->arch.pirq, mask);
}

int vpci_msix_arch_enable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, paddr_t table_base)
{
    int rc;
    (void)table_base;
    ASSERT(entry->arch.pirq == INVALID_PIRQ);
    /* vpci_msi_enable's allocate_and_map_msi_pirq cannot fail in the lab: the PIRQ of the entry's number */
    entry->arch.pirq = PIRQ_BASE + vmsix_entry_nr(pdev->vpci->msix, entry);
    pcidevs_lock();
    rc = vpci_msi_update(pdev, entry, entry->arch.pirq);
    if ( rc )
    {
        vpci_msi_disable(pdev, entry->arch.pirq);
        entry->arch.pirq = INVALID_PIRQ;
    }
    pcidevs_unlock();
    return rc;
}

int vpci_msix_arch_disable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev)
{
    if ( entry->arch.pirq == INVALID_PIRQ )
        return -ENOENT;
    vpci_msi_disable(pdev, entry->arch.pirq);
    entry->arch.pirq = INVALID_PIRQ;
    return 0;
}

void vpci_msix_arch_init_entry(struct vpci_msix_entry *entry) { entry->arch.pirq = INVALID_PIRQ; }
