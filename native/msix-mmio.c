/*
 * The MSI-X table MMIO around Xen's compiled msix.c, both generations: register_mmio_handler hands msix.c's
 * table ops to the lab's intercept (lib/xen/intercept.ts), which asks them through the x_msix_* entries; Xen's
 * ioremap of the table and PBA pages is a cookie whose accesses go to the lab's device memory; the p2m queries of
 * vpci_make_msix_hole go to the lab's p2m. 4.17's msix.c accesses its mappings with readl/readq/writel/writeq,
 * HEAD's with read_mmio/write_mmio: both are here. Compiled (and instrumented) for both recipes.
 */
#include "cx.h"

struct vcpu *cx_vcpu_mirror(int64_t lab);

/* init_msix registers msix.c's ops once per domain; the lab's intercept claims addresses from then on. */
void register_mmio_handler(struct domain *d, const struct hvm_mmio_ops *ops)
{
    d->cx_mmio = ops;
    cx_js(CX_REGISTER_MMIO, d->lab_domain, 0, 0, CX_PC());
}

static __thread unsigned long cx_mmio_data;

/* x_msix_accept(lab vcpu, addr), x_msix_read(lab vcpu, addr, len) then x_msix_data(0 | 1) for the halves,
 * x_msix_write(lab vcpu, addr, len + 256 * high half, low half): the ops of current's domain. */
CX_ENTRY(x_msix_accept)
{
    current = cx_vcpu_mirror(a0);
    return current->domain->cx_mmio ? current->domain->cx_mmio->check(current, a1) : 0;
}
CX_ENTRY(x_msix_read)
{
    current = cx_vcpu_mirror(a0);
    cx_mmio_data = ~0UL;
    return current->domain->cx_mmio->read(current, a1, a2, &cx_mmio_data);
}
CX_ENTRY(x_msix_data) { return a0 ? (uint32_t)(cx_mmio_data >> 32) : (uint32_t)cx_mmio_data; }
CX_ENTRY(x_msix_write)
{
    current = cx_vcpu_mirror(a0);
    return current->domain->cx_mmio->write(current, a1, a2 & 0xff, ((unsigned long)(a2 >> 8) << 32) | (uint32_t)a3);
}

/*
 * ioremap of the MSI-X table and PBA pages (msix.c get_table): a cookie, not memory: the compiled code only hands it
 * to read_mmio / write_mmio, which go to the lab's device memory (lib/hw/msix.ts mmio_read32 / mmio_write32, dword
 * atomic: a byte or a half goes through its dword, as the model's read_mmio does).
 */
#define CX_IOMAP_BASE 0x5a0000000000UL
void *ioremap(paddr_t pa, size_t len) { (void)len; return (void *)(CX_IOMAP_BASE + pa); }
void iounmap(void *va) { (void)va; }
static uint32_t mmio_read32(uint64_t pa) { return (uint32_t)cx_js(CX_MMIO_READ, (double)pa, 0, 0, CX_PC()); }
static void mmio_write32(uint64_t pa, uint32_t v) { cx_js(CX_MMIO_WRITE, (double)pa, v, 0, CX_PC()); }
uint64_t read_mmio(const volatile void *mem, unsigned int size)
{
    uint64_t pa = (uintptr_t)mem - CX_IOMAP_BASE;
    unsigned int shift = (pa & 3) * 8;
    switch ( size )
    {
    case 1: return (mmio_read32(pa & ~3UL) >> shift) & 0xff;
    case 2: return (mmio_read32(pa & ~3UL) >> shift) & 0xffff;
    case 4: return mmio_read32(pa);
    default: return mmio_read32(pa) | ((uint64_t)mmio_read32(pa + 4) << 32);
    }
}
void write_mmio(volatile void *mem, uint64_t data, unsigned int size)
{
    uint64_t pa = (uintptr_t)mem - CX_IOMAP_BASE;
    unsigned int shift = (pa & 3) * 8;
    uint32_t mask = size == 1 ? 0xff : 0xffff;
    if ( size < 4 )
        mmio_write32(pa & ~3UL, (mmio_read32(pa & ~3UL) & ~(mask << shift)) | (((uint32_t)data & mask) << shift));
    else
    {
        mmio_write32(pa, (uint32_t)data);
        if ( size == 8 )
            mmio_write32(pa + 4, data >> 32);
    }
}

/* get_gfn_query / p2m_remove_identity_entry (vpci_make_msix_hole) on the lab's p2m (lib/xen/p2m.ts). */
mfn_t get_gfn_query(struct domain *d, unsigned long gfn, p2m_type_t *t)
{
    double mfn = cx_js(CX_P2M_LOOKUP, d->lab_domain, gfn, 0, CX_PC());
    *t = mfn < 0 ? p2m_mmio_dm : p2m_mmio_direct;
    return mfn < 0 ? INVALID_MFN : _mfn((unsigned long)mfn);
}
void put_gfn(struct domain *d, unsigned long gfn) { (void)d; (void)gfn; }
int p2m_remove_identity_entry(struct domain *d, unsigned long gfn)
{
    cx_js(CX_P2M_CLEAR, d->lab_domain, gfn, 0, CX_PC());
    return 0;
}

#ifndef CX_XEN_HEAD
/* 4.17's msix.c (adjacent_read / adjacent_write) reads and writes its mappings with these. */
uint64_t read_mmio(const volatile void *mem, unsigned int size);
void write_mmio(volatile void *mem, uint64_t data, unsigned int size);
#endif
uint8_t readb(const volatile void *a) { return read_mmio(a, 1); }
uint16_t readw(const volatile void *a) { return read_mmio(a, 2); }
uint32_t readl(const volatile void *a) { return read_mmio(a, 4); }
uint64_t readq(const volatile void *a) { return read_mmio(a, 8); }
void writeb(uint8_t v, volatile void *a) { write_mmio(a, v, 1); }
void writew(uint16_t v, volatile void *a) { write_mmio(a, v, 2); }
void writel(uint32_t v, volatile void *a) { write_mmio(a, v, 4); }
void writeq(uint64_t v, volatile void *a) { write_mmio(a, v, 8); }
