/*
 * Xen HEAD (4.19 on: d->pci_lock, vpci_assign_device, cap.c's capability array, per-BAR rangesets): the part of
 * the lab's shim that differs from 4.17's, included by xen-shim.h when the recipe defines CX_XEN_HEAD, after Xen's
 * vpci.h. Everything else (types, locks, heap, config space, p2m) is xen-shim.h's, shared with 4.17.
 */
#ifndef CX_XEN_SHIM_HEAD_H
#define CX_XEN_SHIM_HEAD_H

/* drivers/vpci/private.h, from the tree (its #include lines stripped like the sources'). */
#include "xh/private.h"

/*
 * Capabilities register in one section GNU ld names the bounds of (Xen's ".data.rel.ro.vpci" is not a C name);
 * the recipe links rebar, msi, msix: the order of HEAD's Makefile, which is the array's. Each init is a fault
 * point of the lab's (lib/xen/fault.ts init_fault_point, by the hook's name: init_msi, init_msix), as the model's
 * cap.ts makes it. The entries keep their type's alignment: gcc would give each 24-byte object 16, and the padding
 * would break the array cap.c indexes.
 */
int cx_init_fault(const char *hook);
#undef REGISTER_VPCI_CAPABILITY
#define REGISTER_VPCI_CAPABILITY(cap, name, finit, fclean, ext) \
    static int name##_lab_init(struct pci_dev *pdev) { return cx_init_fault(#finit) ? -ENOMEM : finit(pdev); } \
    static const vpci_capability_t name##_entry \
        __attribute__((used, section("vpci_array"), aligned(__alignof__(vpci_capability_t)))) = { \
        .id = (cap), .init = name##_lab_init, .cleanup = (fclean), .is_ext = (ext), }
#define __end_vpci_array __stop_vpci_array

/*
 * d->pci_lock is the lab's rwlock in the lab's struct domain (lib/xen/types.ts DOMAIN.pci_lock), the lock the
 * lab's pci.c takes: C's struct domain holds its address, and every &d->pci_lock of the compiled code reads it.
 */
#define pci_lock cx_pci_lock[0]

struct domain {
    int32_t domain_id;
    bool is_hardware;
    bool has_vpci;
    struct list_head pdev_list;       /* Xen: d->pdev_list, under d->pci_lock */
    struct list_head rangesets;
    spinlock_t rangesets_lock;
    rwlock_t *cx_pci_lock;            /* &d->pci_lock: the lab's lock words */
    const struct hvm_mmio_ops *cx_mmio;  /* register_mmio_handler's (msix.c's table ops) */
    unsigned long vpci_dev_assigned_map[1];  /* CONFIG_HAS_VPCI_GUEST_SUPPORT's virtual slots */
    struct { struct { struct list_head msix_tables; } hvm; } arch;
    unsigned int max_vcpus;
    struct vcpu *vcpu[8];
    int32_t lab_domain;               /* the lab's struct domain (word offset) */
};

struct pci_dev {
    struct list_head alldevs_list;
    struct list_head domain_list;
    struct list_head msi_list;
    struct domain *domain;
    struct vpci *vpci;
    union {
        pci_sbdf_t sbdf;
        struct { uint8_t devfn; uint8_t bus; uint16_t seg; };
    };
    bool ignore_bars;
    bool ext_cfg;                     /* no extended config space in the lab's devices */
    bool quarantine;
    bool broken;
    unsigned int msi_pos, msix_pos;   /* pci.c fills these at alloc_pdev from the capability list */
    unsigned int msi_maxvec;
    uint8_t phantom_stride;
    nodeid_t node;
    enum pdev_type type;
    struct pci_dev_info info;
    struct { s_time_t time; unsigned int count; } fault;
    struct list_head vf_list;         /* SR-IOV: none in the lab */
    union {
        struct pf_info { uint64_t vf_rlen[6]; } physfn;
        const struct pci_dev *pf_pdev;
    };
    int32_t lab_pdev;                 /* without pci.c compiled: the lab's struct pci_dev (word offset) */
};

#define for_each_pdev(d, pdev) list_for_each_entry(pdev, &(d)->pdev_list, domain_list)
#define has_vpci(d) ((d)->has_vpci)
#define is_hardware_domain(d) ((d) == hardware_domain)

/*
 * The lab's DomUs see their devices at the host SBDF (lib/xen/head/vpci.ts assign_virtual_sbdf): HEAD's
 * assign_virtual_sbdf takes the first free slot, here the device's own slot while it is free. find_first_zero_bit
 * appears nowhere else in the compiled files; `pdev` is assign_virtual_sbdf's.
 */
unsigned int cx_guest_slot(unsigned long *map, unsigned int nr, const struct pci_dev *pdev);
#define find_first_zero_bit(map, nr) cx_guest_slot(map, nr, pdev)

/* HEAD's PCI helpers (pci.c): capability walks by SBDF, extended capabilities by device. */
unsigned int pci_find_cap_offset(pci_sbdf_t sbdf, unsigned int cap);
unsigned int pci_find_next_cap_ttl(pci_sbdf_t sbdf, unsigned int pos, const unsigned int caps[], unsigned int n, unsigned int *ttl);
unsigned int pci_find_ext_capability(const struct pci_dev *pdev, unsigned int cap);
unsigned int pci_find_next_ext_capability(const struct pci_dev *pdev, unsigned int start, unsigned int cap);

/* Headers HEAD's files reach that 4.17's did not (xen/lib.h, xen/sched.h, xen/io.h, xsm/xsm.h, asm/pci.h). */
#define XFREE(p) do { xfree(p); (p) = NULL; } while ( 0 )
#define ISOLATE_LSB(x) ((x) & -(x))
#define __cx_arg_1 0,
#define __cx_take_second(ignored, val, ...) val
#define __cx_is_enabled2(junk) __cx_take_second(junk 1, 0)
#define __cx_is_enabled1(v) __cx_is_enabled2(__cx_arg_##v)
#define IS_ENABLED(option) __cx_is_enabled1(option)
#define ASSERT_PDEV_LIST_IS_READ_LOCKED(d) ASSERT(pcidevs_locked() || rw_is_locked(&(d)->pci_lock))
int read_trylock(rwlock_t *l);
int xsm_iomem_mapping_vpci(int action, struct domain *d, unsigned long s, unsigned long e, bool map);
int pci_sanitize_bar_memory(struct rangeset *r);
uint64_t read_mmio(const volatile void *mem, unsigned int size);
void write_mmio(volatile void *mem, uint64_t data, unsigned int size);

#endif
