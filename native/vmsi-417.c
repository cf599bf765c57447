/*
 * x86's MSI and MSI-X arch hooks for 4.17's compiled msi.c and msix.c (xen/arch/x86/hvm/vmsi.c:664-933 at 4.17.5),
 * the lab's C, as the model keeps them (lib/xen/vmsi.ts; MSI as lib/xen/head/msi-arch.ts): a bound PIRQ is
 * msi->arch.pirq / entry->arch.pirq plus the device programmed with the guest's message (the lab's stand-ins of
 * pt_irq_create_bind and unmap_domain_pirq below); pt_irq_destroy_bind, the event lock and the IRQ descriptors are
 * not modelled. Kept exactly are the locks and the checks: update, enable and disable take pcidevs_lock (vmsi.c:729,
 * 786, 801, 864) inside the vpci->lock their callers (control_write, the MSI registers' writes, msix_write) hold,
 * vpci_msi_update asserts it (vmsi.c:687), and the PIRQ asserts. Compiled (and instrumented) only for a 4.17 recipe.
 */
#include "cx.h"

#define INVALID_PIRQ (-1)
#define PIRQ_BASE 32                     /* MSI-X entry nr's PIRQ (lib/xen/vmsi.ts) */
#define MSI_PIRQ_BASE (PIRQ_BASE + 64)   /* MSI's, past MSI-X's (lib/xen/head/msi-arch.ts) */
#define MSI_ADDR_BASE_MASK (~0xfffff)    /* an int: sign-extended, the upper half must be 0 */
#define MSI_ADDR_HEADER 0xfee00000

static void msix_entry_write(const struct pci_dev *pdev, unsigned int nr, unsigned int off, uint32_t val)
{
    cx_js(CX_MSIX_ENTRY_WRITE, pdev->sbdf.sbdf, (nr << 16) | off, val, CX_PC());
}

/* pdev->msi_pos of later Xens: 4.17's pci_dev has none, and the capability does not move. */
static unsigned int msi_pos(const struct pci_dev *pdev)
{
    return pci_find_cap_offset(pdev->seg, pdev->bus, PCI_SLOT(pdev->devfn), PCI_FUNC(pdev->devfn), PCI_CAP_ID_MSI);
}

static bool is_msi_pirq(int pirq) { return pirq >= MSI_PIRQ_BASE; }

/* guest_mask_msi_irq for an MSI PIRQ: the vector's bit in the capability's mask register, where there is one. */
static void msi_mask_vector(const struct pci_dev *pdev, unsigned int vector, bool mask)
{
    unsigned int pos = msi_pos(pdev), reg;
    uint16_t control = pci_conf_read16(pdev->sbdf, msi_control_reg(pos));
    uint32_t cur;
    if ( !is_mask_bit_support(control) )
        return;
    reg = msi_mask_bits_reg(pos, is_64bit_address(control));
    cur = pci_conf_read32(pdev->sbdf, reg);
    pci_conf_write32(pdev->sbdf, reg, mask ? cur | (1u << vector) : cur & ~(1u << vector));
}

/* vpci_mask_pirq (vmsi.c:664-673): guest_mask_msi_irq through the PIRQ (MSI-X: the device entry's mask bit). */
static void vpci_mask_pirq(const struct pci_dev *pdev, int pirq, bool mask)
{
    if ( is_msi_pirq(pirq) )
        msi_mask_vector(pdev, pirq - MSI_PIRQ_BASE, mask);
    else
        msix_entry_write(pdev, pirq - PIRQ_BASE, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, mask ? PCI_MSIX_VECTOR_BITMASK : 0);
}

/* pt_irq_create_bind (vmsi.c:698-708) in the lab: the device programmed with the message, the vector's mask set. */
static void bind_pirq(const struct pci_dev *pdev, unsigned int pirq, uint32_t data, uint64_t address, bool masked)
{
    if ( is_msi_pirq(pirq) )
    {
        unsigned int pos = msi_pos(pdev);
        bool is64 = is_64bit_address(pci_conf_read16(pdev->sbdf, msi_control_reg(pos)));
        if ( pirq == MSI_PIRQ_BASE )     /* one message for all the vectors */
        {
            pci_conf_write32(pdev->sbdf, msi_lower_address_reg(pos), (uint32_t)address);
            if ( is64 )
                pci_conf_write32(pdev->sbdf, msi_upper_address_reg(pos), address >> 32);
            pci_conf_write16(pdev->sbdf, msi_data_reg(pos, is64), data);
        }
    }
    else
    {
        unsigned int nr = pirq - PIRQ_BASE;
        msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, (uint32_t)address);
        msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, address >> 32);
        msix_entry_write(pdev, nr, PCI_MSIX_ENTRY_DATA_OFFSET, data);
    }
    vpci_mask_pirq(pdev, pirq, masked);
}

/* unmap_domain_pirq (vmsi.c:813-815) in the lab: MSI-X's entry ends masked; MSI's pci_disable_msi clears enable. */
static void unmap_pirq(const struct pci_dev *pdev, int pirq)
{
    if ( is_msi_pirq(pirq) )
    {
        unsigned int ctrl = msi_control_reg(msi_pos(pdev));
        pci_conf_write16(pdev->sbdf, ctrl, pci_conf_read16(pdev->sbdf, ctrl) & ~PCI_MSI_FLAGS_ENABLE);
    }
    else
        vpci_mask_pirq(pdev, pirq, true);
}

void vpci_msi_arch_mask(struct vpci_msi *msi, const struct pci_dev *pdev, unsigned int entry, bool mask)
{
    vpci_mask_pirq(pdev, msi->arch.pirq + entry, mask);                       /* vmsi.c:675-679 */
}

/* vpci_msi_update (vmsi.c:681-720): a non-MSI address is refused; each vector is bound (cannot fail in the lab). */
static int vpci_msi_update(const struct pci_dev *pdev, uint32_t data, uint64_t address, unsigned int vectors,
                           unsigned int pirq, uint32_t mask)
{
    unsigned int i;
    ASSERT(pcidevs_locked());
    if ( (address & MSI_ADDR_BASE_MASK) != MSI_ADDR_HEADER )
        return -EOPNOTSUPP;
    for ( i = 0; i < vectors; i++ )
        bind_pirq(pdev, pirq + i, data, address, (mask >> i) & 1);
    return 0;
}

/* vmsi.c:722-749; pt_irq_destroy_bind of each bound vector is not modelled (it cannot fail in the lab). */
void vpci_msi_arch_update(struct vpci_msi *msi, const struct pci_dev *pdev)
{
    ASSERT(msi->arch.pirq != INVALID_PIRQ);
    pcidevs_lock();
    msi->arch.bound = !vpci_msi_update(pdev, msi->data, msi->address, msi->vectors, msi->arch.pirq, msi->mask);
    pcidevs_unlock();
}

/* vpci_msi_enable (vmsi.c:751-773): allocate_and_map_msi_pirq cannot fail in the lab; MSI-X's PIRQ is its entry's. */
static int vpci_msi_enable(const struct pci_dev *pdev, unsigned int nr, paddr_t table_base)
{
    (void)pdev;
    return table_base ? PIRQ_BASE + (int)nr : MSI_PIRQ_BASE;
}

int vpci_msi_arch_enable(struct vpci_msi *msi, const struct pci_dev *pdev, unsigned int vectors)
{
    int rc;                                                                     /* vmsi.c:775-792 */
    ASSERT(msi->arch.pirq == INVALID_PIRQ);
    rc = vpci_msi_enable(pdev, vectors, 0);
    if ( rc < 0 )
        return rc;
    msi->arch.pirq = rc;
    pcidevs_lock();
    msi->arch.bound = !vpci_msi_update(pdev, msi->data, msi->address, vectors, msi->arch.pirq, msi->mask);
    pcidevs_unlock();
    return 0;
}

/* vpci_msi_disable (vmsi.c:794-818): under pcidevs_lock, unbind (not modelled) and unmap; the event lock is not. */
static void vpci_msi_disable(const struct pci_dev *pdev, int pirq, unsigned int nr, bool bound)
{
    (void)nr; (void)bound;
    ASSERT(pirq != INVALID_PIRQ);
    pcidevs_lock();
    unmap_pirq(pdev, pirq);
    pcidevs_unlock();
}

void vpci_msi_arch_disable(struct vpci_msi *msi, const struct pci_dev *pdev)
{
    vpci_msi_disable(pdev, msi->arch.pirq, msi->vectors, msi->arch.bound);     /* vmsi.c:820-824 */
    msi->arch.pirq = INVALID_PIRQ;
}

void vpci_msi_arch_init(struct vpci_msi *msi) { msi->arch.pirq = INVALID_PIRQ; }  /* vmsi.c:826-829 */

/* vmsi.c:831-842, the debug keys' dump: the same reads of the state, no console. */
void vpci_msi_arch_print(const struct vpci_msi *msi)
{
    volatile uint64_t sink = msi->data ^ msi->address ^ (uint64_t)msi->arch.pirq;
    (void)sink;
}

void vpci_msix_arch_mask_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, bool mask)
{
    if ( entry->arch.pirq != INVALID_PIRQ )                                    /* vmsi.c:844-849 */
        vpci_mask_pirq(pdev, entry->arch.pirq, mask);
}

int vpci_msix_arch_enable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, paddr_t table_base)
{
    int rc;                                                                     /* vmsi.c:851-876 */
    ASSERT(entry->arch.pirq == INVALID_PIRQ);
    rc = vpci_msi_enable(pdev, vmsix_entry_nr(pdev->vpci->msix, entry), table_base);
    if ( rc < 0 )
        return rc;
    entry->arch.pirq = rc;
    pcidevs_lock();
    rc = vpci_msi_update(pdev, entry->data, entry->addr, 1, entry->arch.pirq, entry->masked);
    if ( rc )
    {
        vpci_msi_disable(pdev, entry->arch.pirq, 1, false);
        entry->arch.pirq = INVALID_PIRQ;
    }
    pcidevs_unlock();
    return rc;
}

int vpci_msix_arch_disable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev)
{
    if ( entry->arch.pirq == INVALID_PIRQ )                                    /* vmsi.c:878-888 */
        return -ENOENT;
    vpci_msi_disable(pdev, entry->arch.pirq, 1, true);
    entry->arch.pirq = INVALID_PIRQ;
    return 0;
}

void vpci_msix_arch_init_entry(struct vpci_msix_entry *entry) { entry->arch.pirq = INVALID_PIRQ; }
