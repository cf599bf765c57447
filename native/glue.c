/*
 * The machine around Xen's compiled vPCI files: C's own struct domain / vcpu / pci_dev (on the lab's heap, each
 * naming the lab object it mirrors), the device list pci_get_pdev walks, the entry points JS calls, and the
 * external functions that forward to the lab (config space: lib/hw; p2m: lib/xen/p2m.ts; preemption and softirqs:
 * the lab's scheduler and fault points). What the compiled files reach and the lab does not supply aborts with
 * the function's name (cx_not_supplied: a lab error, no outcome), never silently.
 *
 * Compiled without -fsanitize=thread, but every object it creates lives in the checked heap.
 */
#include "cx.h"
#ifdef CX_PCI_C                          /* pci.c compiled (recipes.ts pciC): devices are pci.c's, on its lists */
#include "shim/pci-shim.h"
#endif

/* Per-machine C state, on the lab's heap; its word is handed to every thread (cx_set_globals). */
struct cx_globals {
    struct list_head alldevs;
#ifdef CX_PCI_C
    struct radix_tree_root segments;   /* pci.c's pci_segments, per machine */
#endif
    struct domain *hwdom, *domxen, *domio;
    int32_t system_state_word;         /* where the lab keeps system_state */
    int32_t quarantine_word;           /* where the lab keeps iommu_quarantine */
    spinlock_t *pcidevs;               /* the lab's pcidevs_lock */
    unsigned int nr_vcpus, nr_domains;
    struct vcpu *vcpus[64];
    struct domain *domains[16];            /* C's vCPUs, to find the mirror of the lab's current */
};
extern __thread int cx_system_state_word;
static __thread struct cx_globals *G;
/* Where C's domains are in the globals: the stale-mapping scan's layout (scan.c). */
const int32_t cx_globals_domains_at = offsetof(struct cx_globals, domains);
const int32_t cx_globals_nr_domains_at = offsetof(struct cx_globals, nr_domains);


#ifdef CX_PCI_C
void cx_pci_init(void);
__thread struct domain *cx_dom_io;
struct radix_tree_root *cx_pci_segments(void) { return &G->segments; }
bool cx_iommu_quarantine(void) { return G->quarantine_word && cx_M[G->quarantine_word]; }
#endif

/* cx_boot(lab system_state word, lab pcidevs_lock, lab iommu_quarantine word): with pci.c, its segment 0 made */
CX_ENTRY(cx_boot)
{
    G = xzalloc(struct cx_globals);
    INIT_LIST_HEAD(&G->alldevs);
    G->system_state_word = cx_system_state_word = a0;
    G->pcidevs = cx_ptr(a1);
    G->quarantine_word = a2;
#ifdef CX_PCI_C
    cx_pci_init();
#endif
    return cx_word(G);
}

CX_ENTRY(cx_set_globals)
{
    G = cx_ptr(a0);
    hardware_domain = G ? G->hwdom : NULL;
    dom_xen = G ? G->domxen : NULL;
#ifdef CX_PCI_C
    dom_io = G ? G->domio : NULL;
#endif
    cx_system_state_word = G ? G->system_state_word : 0;
    return 0;
}

/* cx_domain_create(domain_id, is_hardware, has_vpci, lab domain) */
CX_ENTRY(cx_domain_create)
{
    struct domain *d = xzalloc(struct domain);
    d->domain_id = a0;
    d->is_hardware = a1;
    d->has_vpci = a2;
    d->lab_domain = a3;
    INIT_LIST_HEAD(&d->pdev_list);
    INIT_LIST_HEAD(&d->rangesets);
    INIT_LIST_HEAD(&d->arch.hvm.msix_tables);
    spin_lock_init(&d->rangesets_lock);
    if ( a1 )
        G->hwdom = hardware_domain = d;
    if ( G->nr_domains < ARRAY_SIZE(G->domains) )
        G->domains[G->nr_domains++] = d;
    return cx_word(d);
}

/* cx_vcpu_create(domain, vcpu_id, lab vcpu) */
CX_ENTRY(cx_vcpu_create)
{
    struct vcpu *v = xzalloc(struct vcpu);
    v->vcpu_id = a1;
    v->domain = cx_ptr(a0);
    v->lab_vcpu = a2;
    if ( v->domain->max_vcpus < ARRAY_SIZE(v->domain->vcpu) )
        v->domain->vcpu[v->domain->max_vcpus++] = v;
    if ( G->nr_vcpus < ARRAY_SIZE(G->vcpus) )
        G->vcpus[G->nr_vcpus++] = v;
    return cx_word(v);
}

CX_ENTRY(cx_set_current)
{
    current = cx_ptr(a0);
    return 0;
}

#ifdef CX_PCI_C
/* cx_pdev_create(owner or 0, sbdf): pci.c's alloc_pdev, then owned (the tests' machines of C's own) */
CX_ENTRY(cx_pdev_create)
{
    struct pci_dev *pdev = cx_pci_alloc(a1);
    struct domain *d = cx_ptr(a0);
    if ( pdev && d )
    {
        pdev->domain = d;
        list_add_tail(&pdev->domain_list, &d->pdev_list);
    }
    return cx_word(pdev);
}
#else
/* cx_pdev_create(owner or 0, sbdf, lab pdev): on the alldevs list, and on the owner's list */
CX_ENTRY(cx_pdev_create)
{
    struct pci_dev *pdev = xzalloc(struct pci_dev);
    struct domain *d = cx_ptr(a0);
    pdev->sbdf.sbdf = a1;
    pdev->lab_pdev = a2;
    pdev->domain = d;
#ifdef CX_XEN_HEAD                       /* alloc_pdev's list_add, as the model's lists (the walks' order) */
    list_add(&pdev->alldevs_list, &G->alldevs);
    if ( d )
        list_add(&pdev->domain_list, &d->pdev_list);
#else
    list_add_tail(&pdev->alldevs_list, &G->alldevs);
    if ( d )
        list_add_tail(&pdev->domain_list, &d->pdev_list);
#endif
    else
        INIT_LIST_HEAD(&pdev->domain_list);
    return cx_word(pdev);
}
#endif

/* cx_pdev_free(pdev): off every list, then freed (pci.c's free_pdev) */
CX_ENTRY(cx_pdev_free)
{
    struct pci_dev *pdev = cx_ptr(a0);
    list_del(&pdev->alldevs_list);
    xfree(pdev);
    return 0;
}

/* cx_pdev_set_owner(pdev, domain or 0): list_del from the old owner's list, list_add to the new one */
CX_ENTRY(cx_pdev_set_owner)
{
    struct pci_dev *pdev = cx_ptr(a0);
    struct domain *d = cx_ptr(a1);
    if ( pdev->domain )
        list_del(&pdev->domain_list);
    pdev->domain = d;
    if ( d )
        list_add_tail(&pdev->domain_list, &d->pdev_list);
    return 0;
}

/* pci.c's operations one at a time, at the moments the lab's pci.c makes them (lib/cxen/pci-head.ts). */
CX_ENTRY(cx_pdev_list_add) { list_add(&((struct pci_dev *)cx_ptr(a0))->domain_list, &((struct domain *)cx_ptr(a1))->pdev_list); return 0; }
CX_ENTRY(cx_pdev_list_del) { list_del(&((struct pci_dev *)cx_ptr(a0))->domain_list); return 0; }
CX_ENTRY(cx_pdev_set_domain) { ((struct pci_dev *)cx_ptr(a0))->domain = cx_ptr(a1); return 0; }
CX_ENTRY(cx_pdev_domain) { return cx_word(((struct pci_dev *)cx_ptr(a0))->domain); }
CX_ENTRY(cx_pdev_del_alldevs) { list_del(&((struct pci_dev *)cx_ptr(a0))->alldevs_list); return 0; }
CX_ENTRY(cx_pdev_xfree) { xfree(cx_ptr(a0)); return 0; }

/* The C mirror of a lab vCPU / pci_dev (NULL if none). */
static struct vcpu *vcpu_of(int64_t lab)
{
    for ( unsigned int i = 0; i < G->nr_vcpus; i++ )
        if ( G->vcpus[i]->lab_vcpu == lab )
            return G->vcpus[i];
    return NULL;
}
static struct pci_dev *pdev_of(int64_t lab)
{
    struct pci_dev *pdev;
    list_for_each_entry ( pdev, &G->alldevs, alldevs_list )
        if ( pdev->lab_pdev == lab )
            return pdev;
    return NULL;
}
static struct domain *domain_of(int64_t lab)
{
    for ( unsigned int i = 0; i < G->nr_domains; i++ )
        if ( G->domains[i]->lab_domain == lab )
            return G->domains[i];
    return NULL;
}
struct vcpu *cx_vcpu_mirror(int64_t lab) { return vcpu_of(lab); }
CX_ENTRY(cx_domain_of) { return cx_word(domain_of(a0)); }
CX_ENTRY(cx_pdev_of) { return cx_word(pdev_of(a0)); }
CX_ENTRY(cx_vcpu_of) { return cx_word(vcpu_of(a0)); }
CX_ENTRY(cx_set_dom_xen) { G->domxen = dom_xen = cx_ptr(a0); return 0; }
#ifdef CX_PCI_C
CX_ENTRY(cx_set_dom_io) { G->domio = dom_io = cx_ptr(a0); return 0; }
CX_ENTRY(cx_pdev_lookup) { return cx_word((pci_get_pdev)(cx_ptr(a0), (pci_sbdf_t){ .sbdf = a1 })); }
/* pci.c's, compiled (pci-entries.c); `current` the lab's vCPU's mirror, d the lab domain's. */
CX_ENTRY(x_pci_add_device) { current = vcpu_of(a1); return cx_pci_add(a0); }
CX_ENTRY(x_pci_remove_device) { current = vcpu_of(a1); return cx_pci_remove(a0); }
CX_ENTRY(x_assign_device) { current = vcpu_of(a2); return cx_pci_assign(domain_of(a0), a1); }
CX_ENTRY(x_deassign_device) { current = vcpu_of(a2); return cx_pci_deassign(domain_of(a0), a1); }
CX_ENTRY(x_pci_hide_device) { return cx_pci_hide(a0); }
#endif

CX_ENTRY(cx_pdev_vpci) { return cx_word(((struct pci_dev *)cx_ptr(a0))->vpci); }
#ifndef CX_XEN_HEAD
CX_ENTRY(cx_vcpu_pending) { return ((struct vcpu *)cx_ptr(a0))->vpci.mem != NULL; }
#endif

/* The compiled entry points of the vPCI files, for the lab's callers; `current` is the lab's current vCPU's mirror. */
#ifndef CX_XEN_HEAD                      /* HEAD's vpci_assign_device / vpci_deassign_device: glue-head.c */
CX_ENTRY(x_vpci_add_handlers) { current = vcpu_of(a1); return vpci_add_handlers(cx_ptr(a0)); }
CX_ENTRY(x_vpci_remove_device) { current = vcpu_of(a1); vpci_remove_device(cx_ptr(a0)); return 0; }
#endif
CX_ENTRY(x_vpci_read) { return vpci_read((pci_sbdf_t){ .sbdf = a0 }, a1, a2); }
CX_ENTRY(x_vpci_write) { vpci_write((pci_sbdf_t){ .sbdf = a0 }, a1, a2, a3); return 0; }
CX_ENTRY(x_vpci_read_as) { current = vcpu_of(a0); return vpci_read((pci_sbdf_t){ .sbdf = a1 }, a2, a3); }
CX_ENTRY(x_vpci_write_as)
{
    current = vcpu_of(a0 & 0xffffffff);
    vpci_write((pci_sbdf_t){ .sbdf = a1 }, a2 & 0xffff, a2 >> 16, a3);
    return 0;
}
CX_ENTRY(x_vpci_process_pending) { return vpci_process_pending(cx_ptr(a0)); }
CX_ENTRY(x_vpci_process_pending_as) { current = vcpu_of(a0); return vpci_process_pending(current); }
CX_ENTRY(x_rangeset_new) { return cx_word(rangeset_new(NULL, NULL, 0)); }
CX_ENTRY(x_rangeset_add_range) { return rangeset_add_range(cx_ptr(a0), a1, a2); }
CX_ENTRY(x_rangeset_remove_range) { return rangeset_remove_range(cx_ptr(a0), a1, a2); }
CX_ENTRY(x_rangeset_contains_range) { return rangeset_contains_range(cx_ptr(a0), a1, a2); }
CX_ENTRY(x_rangeset_destroy) { rangeset_destroy(cx_ptr(a0)); return 0; }

/* ---- Xen's lookups over C's device list (pci.c's, without pcidevs_lock: 4.17's vPCI callers take none) ---- */
#ifdef CX_PCI_C
/* The vPCI files' lookups: pci.c's, then a yield point (4.17's callers take no lock: the device may go now). */
struct pci_dev *cx_pci_get_pdev_yield(const struct domain *d, pci_sbdf_t sbdf)
{
    struct pci_dev *found = (pci_get_pdev)(d, sbdf);
    cx_js(CX_YIELD, 0, 0, 0, CX_PC());
    return found;
}
#elif !defined(CX_XEN_HEAD)              /* HEAD's walks the owner's list for a domain: glue-head.c */
struct pci_dev *pci_get_pdev(const struct domain *d, pci_sbdf_t sbdf)
{
    struct pci_dev *pdev, *found = NULL;
    list_for_each_entry ( pdev, &G->alldevs, alldevs_list )
        if ( pdev->sbdf.sbdf == sbdf.sbdf && (!d || pdev->domain == d) )
        {
            found = pdev;
            break;
        }
    cx_js(CX_YIELD, 0, 0, 0, CX_PC());       /* the lookup took no lock: the device may go now */
    return found;
}
#endif
struct pci_dev *pci_get_pdev_by_domain(const struct domain *d, int seg, int bus, int devfn)
{
    return pci_get_pdev(d, PCI_SBDF(seg, bus, devfn >> 3, devfn & 7));
}
#ifndef CX_PCI_C
/* No device is read-only for the hardware domain here (vpci_write tests for NULL). */
const unsigned long *pci_get_ro_map(uint16_t seg) { (void)seg; return NULL; }
#endif

struct list_head *cx_alldevs(void) { return &G->alldevs; }
struct domain *cx_domain_at(unsigned int i) { return i < G->nr_domains ? G->domains[i] : NULL; }
void pcidevs_lock(void) { spin_lock_recursive(G->pcidevs); }
void pcidevs_unlock(void) { spin_unlock_recursive(G->pcidevs); }
bool pcidevs_locked(void) { return spin_is_locked(G->pcidevs); }

/* The init hook's fault point, by its index in lib/xen/fault.ts VPCI_INIT. */
int cx_init_fault(const char *hook)
{
    static const char *const order[] = { "init_msix", "init_bars", "init_msi" };
    for ( unsigned int i = 0; i < ARRAY_SIZE(order); i++ )
        if ( !strcmp(hook, order[i]) )
            return cx_js(CX_CALL, i, 0, 0, CX_PC()) != 0;
    return 0;
}

/* ---- config space: lib/hw ---- */
uint8_t pci_conf_read8(pci_sbdf_t s, unsigned int reg) { return cx_js(CX_CONF_READ, s.sbdf, reg, 1, CX_PC()); }
uint16_t pci_conf_read16(pci_sbdf_t s, unsigned int reg) { return cx_js(CX_CONF_READ, s.sbdf, reg, 2, CX_PC()); }
uint32_t pci_conf_read32(pci_sbdf_t s, unsigned int reg) { return (uint32_t)cx_js(CX_CONF_READ, s.sbdf, reg, 4, CX_PC()); }
void pci_conf_write8(pci_sbdf_t s, unsigned int reg, uint8_t v) { cx_js(CX_CONF_WRITE, s.sbdf, reg | (1 << 16), v, CX_PC()); }
void pci_conf_write16(pci_sbdf_t s, unsigned int reg, uint16_t v) { cx_js(CX_CONF_WRITE, s.sbdf, reg | (2 << 16), v, CX_PC()); }
void pci_conf_write32(pci_sbdf_t s, unsigned int reg, uint32_t v) { cx_js(CX_CONF_WRITE, s.sbdf, reg | (4 << 16), v, CX_PC()); }

#ifndef CX_PCI_C
/* pci.c's BAR sizing (xen-vpci-model.md F.4): the lab's hardware answers the all-ones probe. */
unsigned int pci_size_mem_bar(pci_sbdf_t sbdf, unsigned int pos, uint64_t *paddr, uint64_t *psize, unsigned int flags)
{
    uint32_t hi = 0, bar = pci_conf_read32(sbdf, pos);
    uint32_t mask = (flags & PCI_BAR_ROM) ? (uint32_t)PCI_ROM_ADDRESS_MASK : (uint32_t)PCI_BASE_ADDRESS_MEM_MASK;
    bool is64 = !(flags & PCI_BAR_ROM) && (bar & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
    uint64_t size;
    pci_conf_write32(sbdf, pos, ~0u);
    if ( is64 )
    {
        if ( flags & PCI_BAR_LAST )
        {
            *psize = 0;
            return 1;
        }
        hi = pci_conf_read32(sbdf, pos + 4);
        pci_conf_write32(sbdf, pos + 4, ~0u);
    }
    size = pci_conf_read32(sbdf, pos) & mask;
    if ( is64 )
    {
        size |= (uint64_t)pci_conf_read32(sbdf, pos + 4) << 32;
        pci_conf_write32(sbdf, pos + 4, hi);
    }
    else if ( size )
        size |= (uint64_t)~0 << 32;
    pci_conf_write32(sbdf, pos, bar);
    size = -size;
    if ( paddr )
        *paddr = (bar & mask) | ((uint64_t)hi << 32);
    *psize = size;
    return is64 ? 2 : 1;
}
#endif

bool pci_check_bar(const struct pci_dev *pdev, mfn_t start, mfn_t end) { (void)pdev; return mfn_x(start) <= mfn_x(end); }

#ifndef CX_XEN_HEAD                      /* HEAD's walks take an SBDF: glue-head.c */
unsigned int pci_find_cap_offset(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t func, uint8_t cap)
{
    pci_sbdf_t s = PCI_SBDF(seg, bus, dev, func);
    unsigned int pos, ttl = 48;
    if ( !(pci_conf_read16(s, PCI_STATUS) & PCI_STATUS_CAP_LIST) )
        return 0;
    for ( pos = pci_conf_read8(s, PCI_CAPABILITY_LIST); ttl-- && pos >= 0x40; )
    {
        pos &= ~3;
        if ( pci_conf_read8(s, pos + PCI_CAP_LIST_ID) == cap )
            return pos;
        pos = pci_conf_read8(s, pos + PCI_CAP_LIST_NEXT);
    }
    return 0;
}
#endif

/* ---- p2m (identity maps, as 4.17 on x86 Dom0): lib/xen/p2m.ts ---- */
int map_mmio_regions(struct domain *d, gfn_t g, unsigned long nr, mfn_t m)
{
    return cx_js4(CX_MAP, d->lab_domain, gfn_x(g), nr, mfn_x(m), CX_PC());
}
int unmap_mmio_regions(struct domain *d, gfn_t g, unsigned long nr, mfn_t m)
{
    return cx_js4(CX_UNMAP, d->lab_domain, gfn_x(g), nr, mfn_x(m), CX_PC());
}
/* get_gfn_query, p2m_remove_identity_entry (vpci_make_msix_hole): msix-mmio.c */

/* ---- scheduler, softirqs, domains ---- */
bool general_preempt_check(void) { return cx_js(CX_PREEMPT, 0, 0, 0, CX_PC()) != 0; }
void raise_softirq(unsigned int nr) { cx_js(CX_SOFTIRQ, current ? current->lab_vcpu : 0, nr, 0, CX_PC()); }
void process_pending_softirqs(void) {}
#undef domain_crash
void domain_crash(struct domain *d) { cx_js(CX_DOMAIN_CRASH, d->lab_domain, 0, 0, CX_PC()); }

/* ---- MSI arch hooks: 4.17's are vmsi-417.c, HEAD's vmsi-head.c; the table MMIO: msix-mmio.c ---- */
int pci_msi_conf_write_intercept(struct pci_dev *p, unsigned int r, unsigned int s, uint32_t *d) { (void)p; (void)r; (void)s; (void)d; return 0; }
/* The debug keys' dump of MSI state (vpci_dump_msi): not raced. */
#ifdef CX_XEN_HEAD
void vpci_msi_arch_print(const struct vpci_msi *msi) { (void)msi; NOT_SUPPLIED(vpci_msi_arch_print); }
#endif
int vpci_msix_arch_print(const struct vpci_msix *msix) { (void)msix; NOT_SUPPLIED(vpci_msix_arch_print); }
