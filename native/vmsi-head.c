/*
 * x86's MSI and MSI-X arch hooks for HEAD's compiled msi.c and msix.c (xen/arch/x86/hvm/vmsi.c:817-1041 at
 * c447b7308b), the lab's C, as the model keeps them (lib/xen/head/msi-arch.ts, lib/xen/head/vmsi.ts,
 * lib/xen/vmsi.ts): a bound PIRQ is msi->arch.pirq / entry->arch.pirq plus the device programmed with the guest's
 * message; pt_irq_*_bind, the event lock and the IRQ descriptors are not modelled. Kept exactly are the checks:
 * ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain) (pcidevs_lock, or the *owner's* d->pci_lock) and the PIRQ asserts.
 * Compiled (and instrumented) only for a HEAD recipe.
 */
#include "cx.h"

#define INVALID_PIRQ (-1)
#define PIRQ_BASE 32                     /* MSI-X entry nr's PIRQ (lib/xen/vmsi.ts) */
#define MSI_PIRQ_BASE (PIRQ_BASE + 64)   /* past MSI-X's (lib/xen/head/msi-arch.ts) */
#define MSI_ADDR_BASE_MASK (~0xfffff)    /* an int: sign-extended, the upper half must be 0 */
#define MSI_ADDR_HEADER 0xfee00000

/* ---- MSI (vmsi.c:817-979) ---- */
static void msi_mask_pirq(const struct pci_dev *pdev, int pirq, bool mask)
{
    unsigned int pos = pdev->msi_pos;
    uint16_t control = pci_conf_read16(pdev->sbdf, msi_control_reg(pos));
    unsigned int reg;
    uint32_t bit = 1u << (pirq - MSI_PIRQ_BASE), cur;
    if ( !is_mask_bit_support(control) )
        return;
    reg = msi_mask_bits_reg(pos, is_64bit_address(control));
    cur = pci_conf_read32(pdev->sbdf, reg);
    pci_conf_write32(pdev->sbdf, reg, mask ? cur | bit : cur & ~bit);
}

static int msi_update(const struct pci_dev *pdev, const struct vpci_msi *msi, unsigned int vectors, int pirq)
{
    unsigned int pos = pdev->msi_pos, i;
    bool is64;
    ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain);
    if ( (msi->address & MSI_ADDR_BASE_MASK) != MSI_ADDR_HEADER )
        return -EOPNOTSUPP;
    is64 = is_64bit_address(pci_conf_read16(pdev->sbdf, msi_control_reg(pos)));
    pci_conf_write32(pdev->sbdf, msi_lower_address_reg(pos), (uint32_t)msi->address);
    if ( is64 )
        pci_conf_write32(pdev->sbdf, msi_upper_address_reg(pos), msi->address >> 32);
    pci_conf_write16(pdev->sbdf, msi_data_reg(pos, is64), msi->data);
    for ( i = 0; i < vectors; i++ )
        msi_mask_pirq(pdev, pirq + i, (msi->mask >> i) & 1);
    return 0;
}

void vpci_msi_arch_mask(struct vpci_msi *msi, const struct pci_dev *pdev, unsigned int entry, bool mask)
{
    msi_mask_pirq(pdev, msi->arch.pirq + entry, mask);
}

void vpci_msi_arch_update(struct vpci_msi *msi, const struct pci_dev *pdev)
{
    ASSERT(msi->arch.pirq != INVALID_PIRQ);
    ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain);
    msi->arch.bound = !msi_update(pdev, msi, msi->vectors, msi->arch.pirq);
}

int vpci_msi_arch_enable(struct vpci_msi *msi, const struct pci_dev *pdev, unsigned int vectors)
{
    ASSERT(msi->arch.pirq == INVALID_PIRQ);
    ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain);
    msi->arch.pirq = MSI_PIRQ_BASE;            /* allocate_and_map_msi_pirq cannot fail in the lab */
    msi->arch.bound = !msi_update(pdev, msi, vectors, msi->arch.pirq);
    return 0;
}

void vpci_msi_arch_disable(struct vpci_msi *msi, const struct pci_dev *pdev)
{
    unsigned int ctrl = msi_control_reg(pdev->msi_pos);
    ASSERT(msi->arch.pirq != INVALID_PIRQ);
    ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain);
    /* unmap_domain_pirq's pci_disable_msi clears the enable bit */
    pci_conf_write16(pdev->sbdf, ctrl, pci_conf_read16(pdev->sbdf, ctrl) & ~PCI_MSI_FLAGS_ENABLE);
    msi->arch.pirq = INVALID_PIRQ;
}

void vpci_msi_arch_init(struct vpci_msi *msi) { msi->arch.pirq = INVALID_PIRQ; }

/* ---- MSI-X (vmsi.c:994-1041): the device's own table entry is programmed through the lab's hardware ---- */
static void msix_entry_write(const struct pci_dev *pdev, unsigned int nr, unsigned int off, uint32_t val)
{
    cx_js(CX_MSIX_ENTRY_WRITE, pdev->sbdf.sbdf, (nr << 16) | off, val, CX_PC());
}

static void msix_mask_pirq(const struct pci_dev *pdev, int pirq, bool mask)
{
    msix_entry_write(pdev, pirq - PIRQ_BASE, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, mask ? PCI_MSIX_VECTOR_BITMASK : 0);
}

static int msix_update(const struct pci_dev *pdev, const struct vpci_msix_entry *entry, int pirq)
{
    unsigned int nr = pirq - PIRQ_BASE;
    if ( (entry->addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_HEADER )
        return -EOPNOTSUPP;
    msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, (uint32_t)entry->addr);
    msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, entry->addr >> 32);
    msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_DATA_OFFSET, entry->data);
    msix_mask_pirq(pdev, pirq, entry->masked);
    return 0;
}

/* Xen's name (vmsi.c:945-951): a failed ASSERT is reported in the function Xen would name. */
static void vpci_msi_disable(const struct pci_dev *pdev, int pirq)
{
    ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain);
    msix_mask_pirq(pdev, pirq, true);
}

int vpci_msix_arch_enable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, paddr_t table_base)
{
    int pirq, rc;
    (void)table_base;
    ASSERT(entry->arch.pirq == INVALID_PIRQ);
    ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain);
    pirq = PIRQ_BASE + vmsix_entry_nr(pdev->vpci->msix, entry);
    entry->arch.pirq = pirq;
    rc = msix_update(pdev, entry, pirq);
    if ( rc )
    {
        vpci_msi_disable(pdev, pirq);
        entry->arch.pirq = INVALID_PIRQ;
    }
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

void vpci_msix_arch_mask_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, bool mask)
{
    if ( entry->arch.pirq != INVALID_PIRQ )
        msix_mask_pirq(pdev, entry->arch.pirq, mask);
}

void vpci_msix_arch_init_entry(struct vpci_msix_entry *entry) { entry->arch.pirq = INVALID_PIRQ; }
