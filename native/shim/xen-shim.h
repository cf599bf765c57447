/*
 * The lab's stand-in for the Xen headers the vPCI files include. Xen's own pure headers (list.h, pci_regs.h,
 * rangeset.h, vpci.h) come from the tree being compiled; everything they and the .c files need from the rest of
 * Xen is declared here, in the style of Xen's tools/tests/vpci/emul.h. Every function declared here and not
 * defined inline is supplied by native/runtime.c, which hands it to the lab (heap, locks, config space, p2m,
 * scheduler). Only the fields the compiled files touch exist in struct domain / vcpu / pci_dev.
 *
 * Built with -include this file; the build strips #include lines from the copied sources (as Xen's own
 * tools/tests/vpci/Makefile does) and -DCX_SPIN_WORDS / -DCX_RW_WORDS give the lab's lock sizes in words.
 */
#ifndef CX_XEN_SHIM_H
#define CX_XEN_SHIM_H

#define __XEN__ 1
#define CONFIG_HAS_VPCI 1
#define CONFIG_HAS_PCI 1
#define CONFIG_HAS_PCI_MSI 1
#define CONFIG_X86 1
#define CONFIG_HVM 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>

typedef bool bool_t;
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef uint64_t paddr_t;
typedef int64_t s_time_t;
#define PRIpaddr "016lx"

#define __init
#define __initdata
#define __read_mostly
#define __ro_after_init
#define __iomem
#define cf_check
#define noinline __attribute__((noinline))
#define __must_check __attribute__((warn_unused_result))
#define __maybe_unused __attribute__((unused))
#define __used __attribute__((used))
#define __used_section(s) __attribute__((used, section(s)))
#define always_inline inline __attribute__((always_inline))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ACCESS_ONCE(x) (*(volatile typeof(x) *)&(x))
#define read_atomic(p) (*(volatile typeof(*(p)) *)(p))
#define write_atomic(p, v) (*(volatile typeof(*(p)) *)(p) = (v))
#define barrier() __asm__ __volatile__("" ::: "memory")
#define smp_wmb() barrier()
#define smp_rmb() barrier()
#define smp_mb() __sync_synchronize()
#define cpu_relax() barrier()
#define prefetch(x) ((void)(x))
#define fallthrough __attribute__((__fallthrough__))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define ROUNDUP(x, a) (((x) + (a) - 1) & ~((a) - 1))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define IS_ALIGNED(v, a) (!((v) & ((a) - 1)))
#define MASK_EXTR(v, m) (((v) & (m)) / ((m) & -(m)))
#define MASK_INSR(v, m) (((v) * ((m) & -(m))) & (m))
#define BIT(n, sfx) (1##sfx << (n))
#define GENMASK(h, l) (((~0UL) << (l)) & (~0UL >> (63 - (h))))
#define BITS_PER_LONG 64
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_OFFSET(p) ((unsigned long)(p) & ~PAGE_MASK)
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define round_pgdown(p) ((p) & PAGE_MASK)
#define round_pgup(p) (((p) + (PAGE_SIZE - 1)) & PAGE_MASK)
#define pfn_to_paddr(pfn) ((paddr_t)(pfn) << PAGE_SHIFT)
#define paddr_to_pfn(pa) ((unsigned long)((pa) >> PAGE_SHIFT))

/* errno values (xen/include/public/errno.h) */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EOPNOTSUPP 95
#define ERESTART 85

/* printk: formatting is not what is raced; the lab counts nothing here. */
#define XENLOG_ERR ""
#define XENLOG_WARNING ""
#define XENLOG_INFO ""
#define XENLOG_DEBUG ""
#define XENLOG_G_ERR ""
#define XENLOG_G_WARNING ""
#define XENLOG_G_INFO ""
#define XENLOG_G_DEBUG ""
#define printk(...) ((void)0)
#define gprintk(lvl, ...) ((void)0)
#define gdprintk(lvl, ...) ((void)0)
#define dprintk(lvl, ...) ((void)0)
#define printk_once(...) ((void)0)
#define panic(...) cx_bug(__func__, "panic")

/* ASSERT as Xen's chosen build defines it: debug (CX_NDEBUG unset) reports an assert crash at its site. */
void cx_assert_failed(const char *func, const char *what) __attribute__((noreturn));
void cx_bug(const char *func, const char *what) __attribute__((noreturn));
#ifndef CX_NDEBUG
#define ASSERT(p) do { if ( unlikely(!(p)) ) cx_assert_failed(__func__, #p); } while ( 0 )
#define ASSERT_UNREACHABLE() cx_assert_failed(__func__, "unreachable")
#else
#define ASSERT(p) do { if ( 0 && (p) ) {} } while ( 0 )
#define ASSERT_UNREACHABLE() do { } while ( 0 )
#endif
#define BUG() cx_bug(__func__, "BUG")
#define BUG_ON(p) do { if ( unlikely(p) ) cx_bug(__func__, "BUG_ON(" #p ")"); } while ( 0 )
#define WARN_ON(p) (!!(p))
#define WARN() ((void)0)

/* Heap: the lab's checked heap in shared memory (runtime.c). */
void *_xmalloc(unsigned long size, unsigned long align);
void *_xzalloc(unsigned long size, unsigned long align);
void xfree(void *p);
#define xmalloc(t) ((t *)_xmalloc(sizeof(t), __alignof__(t)))
#define xzalloc(t) ((t *)_xzalloc(sizeof(t), __alignof__(t)))
#define xmalloc_array(t, n) ((t *)_xmalloc(sizeof(t) * (n), __alignof__(t)))
#define xzalloc_array(t, n) ((t *)_xzalloc(sizeof(t) * (n), __alignof__(t)))
#define xmalloc_bytes(n) _xmalloc(n, sizeof(void *))
#define xzalloc_bytes(n) _xzalloc(n, sizeof(void *))
#define xzalloc_flex_struct(t, f, n) ((t *)_xzalloc(offsetof(t, f[n]), __alignof__(t)))
#define xmalloc_flex_struct(t, f, n) ((t *)_xmalloc(offsetof(t, f[n]), __alignof__(t)))

/* Locks: the lab's lock words (lib/sync), embedded where Xen embeds them. */
typedef struct { int32_t w[CX_SPIN_WORDS]; } spinlock_t;
typedef struct { int32_t w[CX_RW_WORDS]; } rwlock_t;
void spin_lock_init(spinlock_t *l);
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
int spin_trylock(spinlock_t *l);
int spin_is_locked(const spinlock_t *l);
void spin_lock_recursive(spinlock_t *l);
void spin_unlock_recursive(spinlock_t *l);
void rwlock_init(rwlock_t *l);
void read_lock(rwlock_t *l);
void read_unlock(rwlock_t *l);
void write_lock(rwlock_t *l);
void write_unlock(rwlock_t *l);
int rw_is_locked(const rwlock_t *l);
int rw_is_write_locked(const rwlock_t *l);
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define spin_lock_irqsave(l, f) ((f) = 0, spin_lock(l))
#define spin_unlock_irqrestore(l, f) ((void)(f), spin_unlock(l))
#define read_lock_irq(l) read_lock(l)
#define read_unlock_irq(l) read_unlock(l)
#define write_lock_irq(l) write_lock(l)
#define write_unlock_irq(l) write_unlock(l)
#define DEFINE_SPINLOCK(n) spinlock_t n

/* Xen's pure headers, from the tree (include lines stripped by the build). */
#include "xh/list.h"
#include "xh/pci_regs.h"

/*
 * Walks another CPU may change under the walker: the model yields at each node of them (lib/xen/head/pci.ts
 * pci_get_pdev's alldevs_list, header.ts modify_bars' for_each_pdev, msix.ts msix_find), where a concurrent
 * removal can free the node the walker stands on. Xen's macro with one test added: each call site asks once
 * (runtime.c cx_walk_kind, by its function and list member) whether it is such a walk, and if so yields at each
 * node before the body reads it. Every other walk (under the lock that guards its list) runs alone, as before.
 */
int cx_walk_kind(const char *func, const char *member);
void cx_walk_yield(int kind);
#define CX_WALK_NODE(member) ({ static int cx_walk_ = -1; \
    if ( cx_walk_ < 0 ) cx_walk_ = cx_walk_kind(__func__, member); \
    if ( cx_walk_ ) cx_walk_yield(cx_walk_ - 1); 1; })
#undef list_for_each_entry
#define list_for_each_entry(pos, head, member) \
    for ((pos) = list_entry((head)->next, typeof(*(pos)), member); \
         &(pos)->member != (head) && CX_WALK_NODE(#member); \
         (pos) = list_entry((pos)->member.next, typeof(*(pos)), member))

typedef union {
    uint32_t sbdf;
    struct {
        union {
            uint16_t bdf;
            struct {
                union {
                    struct { uint8_t func : 3, dev : 5; };
                    struct { uint8_t fn : 3, : 5; };      /* HEAD's name for the function number */
                    uint8_t devfn, extfunc;
                };
                uint8_t bus;
            };
        };
        uint16_t seg;
    };
} pci_sbdf_t;
/* xen/pci.h's: PCI_SBDF(s, b, devfn) or PCI_SBDF(s, b, d, f); PCI_DEVFN(devfn) or PCI_DEVFN(d, f). */
#define count_args_(dot, a1, a2, a3, a4, a5, a6, a7, a8, x, ...) x
#define count_args(args...) count_args_(., ## args, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define PCI__(what, nr) PCI_##what##nr##_
#define PCI_(what, nr) PCI__(what, nr)
#define PCI_BUS(bdf) (((bdf) >> 8) & 0xff)
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 0x07)
#define PCI_DEVFN1_(df) ((df) & 0xff)
#define PCI_DEVFN2_(d, f) ((((d) & 0x1f) << 3) | ((f) & 7))
#define PCI_SBDF4_(s, b, d, f...) ((pci_sbdf_t){ .sbdf = (((s) & 0xffff) << 16) | PCI_BDF(b, d, ##f) })
#define PCI_SBDF3_ PCI_SBDF4_
#define PCI_SBDF2_(s, bdf) ((pci_sbdf_t){ .sbdf = (((s) & 0xffff) << 16) | ((bdf) & 0xffff) })
#define PCI_DEVFN(d, f...) PCI_(DEVFN, count_args(d, ##f))(d, ##f)
#define PCI_BDF(b, d, f...) ((((b) & 0xff) << 8) | PCI_DEVFN(d, ##f))
#define PCI_SBDF(s, b, d...) PCI_(SBDF, count_args(s, b, ##d))(s, b, ##d)
#define ECAM_REG_OFFSET(addr) ((addr) & 0x00000fff)
#define PCI_HEADER_NORMAL_NR_BARS 6
#define PCI_HEADER_BRIDGE_NR_BARS 2
#define PCI_BAR_VF (1u << 0)
#define PCI_BAR_LAST (1u << 1)
#define PCI_BAR_ROM (1u << 2)
#define PCI_BAR_RO (1u << 3)

typedef struct { unsigned long mfn; } mfn_t;
typedef struct { unsigned long gfn; } gfn_t;
#define _mfn(x) ((mfn_t){ (x) })
#define _gfn(x) ((gfn_t){ (x) })
#define mfn_x(m) ((m).mfn)
#define gfn_x(g) ((g).gfn)
#define INVALID_MFN _mfn(~0UL)
#define mfn_eq(a, b) (mfn_x(a) == mfn_x(b))
#define mfn_add(m, i) _mfn(mfn_x(m) + (i))
#define gfn_add(g, i) _gfn(gfn_x(g) + (i))
typedef enum { p2m_ram_rw, p2m_invalid, p2m_mmio_dm, p2m_mmio_direct } p2m_type_t;

struct vpci_arch_msi { int pirq; bool bound; };
struct vpci_arch_msix_entry { int pirq; };

struct pci_dev;
struct domain;
struct vcpu;
struct vpci;
#include "xh/rangeset.h"
#include "xh/vpci.h"
/* xen/pci.h's, both generations: what struct pci_dev holds for pci.c. */
enum pdev_type {
    DEV_TYPE_PCI_UNKNOWN,
    DEV_TYPE_PCIe_ENDPOINT,
    DEV_TYPE_PCIe_BRIDGE,
    DEV_TYPE_PCIe2PCI_BRIDGE,
    DEV_TYPE_PCI2PCIe_BRIDGE,
    DEV_TYPE_LEGACY_PCI_BRIDGE,
    DEV_TYPE_PCI_HOST_BRIDGE,
    DEV_TYPE_PCI,
};
typedef uint8_t nodeid_t;
#define NUMA_NO_NODE 0xFF
struct pci_dev_info {
    bool is_extfn;
    bool is_virtfn;
    struct { uint8_t bus; uint8_t devfn; } physfn;
};
#ifdef CX_XEN_HEAD
#include "xen-shim-head.h"
#else
/* Init hooks register in one section; GNU ld names its bounds. The build links msix, header, msi: the order of
 * Xen's SORT(.data.vpci.*) for priorities 1, 5, 9. Each hook is a fault point of the lab's (lib/xen/fault.ts
 * init_fault_point: failNext and verify's 'init' faults), failing as its first allocation would. */
int cx_init_fault(const char *hook);
#undef REGISTER_VPCI_INIT
#define REGISTER_VPCI_INIT(x, p) \
    static int x##_lab(struct pci_dev *pdev) { return cx_init_fault(#x) ? -ENOMEM : x(pdev); } \
    static vpci_register_init_t *const x##_entry __used_section("vpci_array") = x##_lab
#define __end_vpci_array __stop_vpci_array

struct domain {
    int32_t domain_id;
    bool is_hardware;
    bool has_vpci;
    struct list_head pdev_list;       /* Xen: d->pdev_list */
    struct list_head rangesets;
    spinlock_t rangesets_lock;
    const struct hvm_mmio_ops *cx_mmio;  /* register_mmio_handler's (msix.c's table ops), msix-mmio.c */
    struct { struct { struct list_head msix_tables; } hvm; } arch;
    unsigned int max_vcpus;
    struct vcpu *vcpu[8];
    int32_t lab_domain;               /* the lab's struct domain (word offset) */
};

/* Xen's struct pci_dev (xen/pci.h), the fields the compiled files use: pci.c (native/shim/pci-shim.h) among them. */
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
    bool quarantine;
    bool broken;
    unsigned int msi_maxvec;
    uint8_t phantom_stride;
    nodeid_t node;
    enum pdev_type type;
    struct pci_dev_info info;
    struct { s_time_t time; unsigned int count; } fault;
    uint64_t vf_rlen[6];
    int32_t lab_pdev;                 /* without pci.c compiled: the lab's struct pci_dev (word offset) */
};

#define for_each_pdev(d, pdev) list_for_each_entry(pdev, &(d)->pdev_list, domain_list)
#define has_vpci(d) ((d)->has_vpci)
#define is_hardware_domain(d) ((d) == hardware_domain)
#endif

struct vcpu {
    int32_t vcpu_id;
    struct domain *domain;
    struct vpci_vcpu vpci;
    int32_t lab_vcpu;                 /* the lab's struct vcpu (word offset) */
};

/* Xen globals: per-thread views of the lab's machine (runtime.c). */
extern __thread struct vcpu *cx_current;
extern __thread struct domain *cx_hardware_domain, *cx_dom_xen;
int cx_system_state_now(void);
#define current cx_current
#define hardware_domain cx_hardware_domain
#define dom_xen cx_dom_xen
#define system_state cx_system_state_now()
#define SYS_STATE_active 3
#define SCHEDULE_SOFTIRQ 0
void raise_softirq(unsigned int nr);
void process_pending_softirqs(void);
bool general_preempt_check(void);
void domain_crash(struct domain *d);
#define rcu_read_lock(l) ((void)0)
#define rcu_read_unlock(l) ((void)0)
struct domain *cx_domain_at(unsigned int i);
#define for_each_domain(d) for ( unsigned int _cx_i = 0; ((d) = cx_domain_at(_cx_i)) != NULL; _cx_i++ )
#define for_each_vcpu(d, v) \
    for ( unsigned int _cx_j = 0; _cx_j < (d)->max_vcpus && ((v) = (d)->vcpu[_cx_j]) != NULL; _cx_j++ )
/* pci.c's global lock: the lab's pcidevs_lock word (lib/xen/state.ts), a recursive spinlock as in 4.17. */
void pcidevs_lock(void);
void pcidevs_unlock(void);
bool pcidevs_locked(void);
#define domain_crash(d) domain_crash(d)

/* Config space (lib/hw) and PCI helpers. */
uint8_t pci_conf_read8(pci_sbdf_t sbdf, unsigned int reg);
uint16_t pci_conf_read16(pci_sbdf_t sbdf, unsigned int reg);
uint32_t pci_conf_read32(pci_sbdf_t sbdf, unsigned int reg);
void pci_conf_write8(pci_sbdf_t sbdf, unsigned int reg, uint8_t data);
void pci_conf_write16(pci_sbdf_t sbdf, unsigned int reg, uint16_t data);
void pci_conf_write32(pci_sbdf_t sbdf, unsigned int reg, uint32_t data);
struct pci_dev *pci_get_pdev_by_domain(const struct domain *d, int seg, int bus, int devfn);
struct pci_dev *pci_get_pdev(const struct domain *d, pci_sbdf_t sbdf);
#ifdef CX_PCI_C
/* The vPCI files' lookups: pci.c's pci_get_pdev, then a yield point (glue.c; pci-shim.h undoes this for pci.c). */
struct pci_dev *cx_pci_get_pdev_yield(const struct domain *d, pci_sbdf_t sbdf);
#define pci_get_pdev(d, sbdf) cx_pci_get_pdev_yield(d, sbdf)
#endif
const unsigned long *pci_get_ro_map(uint16_t seg);
unsigned int pci_size_mem_bar(pci_sbdf_t sbdf, unsigned int pos, uint64_t *paddr, uint64_t *psize, unsigned int flags);
bool pci_check_bar(const struct pci_dev *pdev, mfn_t start, mfn_t end);
#ifndef CX_XEN_HEAD
unsigned int pci_find_cap_offset(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t func, uint8_t cap);
unsigned int pci_find_next_cap(uint16_t seg, uint8_t bus, unsigned int devfn, unsigned int pos, int cap);
unsigned int pci_find_ext_capability(int seg, int bus, int devfn, int cap);
#endif
unsigned int pci_msix_get_table_len(const struct pci_dev *pdev);
int pci_msi_conf_write_intercept(struct pci_dev *pdev, unsigned int reg, unsigned int size, uint32_t *data);
void pci_intx(const struct pci_dev *pdev, bool enable);
static inline bool test_bit(int nr, const volatile void *addr)
{
    const volatile unsigned long *p = addr;
    return (p[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}
#define msix_table_size(flags) (((flags) & PCI_MSIX_FLAGS_QSIZE) + 1)
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET 0
#define PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET 4
#define PCI_MSIX_ENTRY_DATA_OFFSET 8
#define PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET 12
#define PCI_MSIX_VECTOR_BITMASK (1 << 0)
#ifndef PCI_MSIX_BIRMASK
#define PCI_MSIX_BIRMASK (7u << 0)
#endif
#define msi_control_reg(base) ((base) + PCI_MSI_FLAGS)
#define msi_lower_address_reg(base) ((base) + PCI_MSI_ADDRESS_LO)
#define msi_upper_address_reg(base) ((base) + PCI_MSI_ADDRESS_HI)
#define msi_data_reg(base, is64) (((is64) == 1) ? (base) + PCI_MSI_DATA_64 : (base) + PCI_MSI_DATA_32)
#define msi_mask_bits_reg(base, is64) (((is64) == 1) ? (base) + PCI_MSI_MASK_BIT : (base) + PCI_MSI_MASK_BIT - 4)
#define msi_pending_bits_reg(base, is64) ((base) + PCI_MSI_MASK_BIT + ((is64) == 1 ? 4 : 0))
#define is_64bit_address(control) (!!((control) & PCI_MSI_FLAGS_64BIT))
#define is_mask_bit_support(control) (!!((control) & PCI_MSI_FLAGS_MASKBIT))
#define multi_msi_capable(control) (1 << (((control) & PCI_MSI_FLAGS_QMASK) >> 1))
#define multi_msi_enable(control, num) ((control) |= (((fls(num) - 1) << 4) & PCI_MSI_FLAGS_QSIZE))
#define msix_control_reg(base) ((base) + PCI_MSIX_FLAGS)
#define msix_table_offset_reg(base) ((base) + PCI_MSIX_TABLE)
#define msix_pba_offset_reg(base) ((base) + PCI_MSIX_PBA)
static inline int fls(unsigned int x) { return x ? 32 - __builtin_clz(x) : 0; }
#define ffs(x) __builtin_ffs(x)
#define hweight32(x) __builtin_popcount(x)
static inline void __clear_bit(int nr, volatile void *addr)
{
    volatile unsigned long *p = addr;
    p[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}
static inline void __set_bit(int nr, volatile void *addr)
{
    volatile unsigned long *p = addr;
    p[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

/* p2m and MMIO (lib/xen/p2m.ts) */
int map_mmio_regions(struct domain *d, gfn_t start_gfn, unsigned long nr, mfn_t mfn);
int unmap_mmio_regions(struct domain *d, gfn_t start_gfn, unsigned long nr, mfn_t mfn);
mfn_t get_gfn_query(struct domain *d, unsigned long gfn, p2m_type_t *t);
void put_gfn(struct domain *d, unsigned long gfn);
int p2m_remove_identity_entry(struct domain *d, unsigned long gfn);
void *ioremap(paddr_t pa, size_t len);
void iounmap(void *va);
struct hvm_mmio_ops {
    int (*check)(struct vcpu *v, unsigned long addr);
    int (*read)(struct vcpu *v, unsigned long addr, unsigned int len, unsigned long *val);
    int (*write)(struct vcpu *v, unsigned long addr, unsigned int len, unsigned long val);
};
void register_mmio_handler(struct domain *d, const struct hvm_mmio_ops *ops);
#define X86EMUL_OKAY 0
#define X86EMUL_UNHANDLEABLE 1
#define X86EMUL_RETRY 3
uint8_t readb(const volatile void *a);
uint16_t readw(const volatile void *a);
uint32_t readl(const volatile void *a);
uint64_t readq(const volatile void *a);
void writeb(uint8_t v, volatile void *a);
void writew(uint16_t v, volatile void *a);
void writel(uint32_t v, volatile void *a);
void writeq(uint64_t v, volatile void *a);

/* XSM and MSI arch hooks */
#ifndef CX_XEN_HEAD
int xsm_iomem_mapping_vpci(struct domain *d, unsigned long s, unsigned long e, bool map);
#endif
bool iomem_access_permitted(const struct domain *d, unsigned long s, unsigned long e);
int vpci_msix_arch_enable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, paddr_t table_base);
int vpci_msix_arch_disable_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev);
void vpci_msix_arch_mask_entry(struct vpci_msix_entry *entry, const struct pci_dev *pdev, bool mask);
void vpci_msix_arch_init_entry(struct vpci_msix_entry *entry);
int vpci_msix_arch_print(const struct vpci_msix *msix);
void vpci_msi_arch_mask(struct vpci_msi *msi, const struct pci_dev *pdev, unsigned int entry, bool mask);
int vpci_msi_arch_enable(struct vpci_msi *msi, const struct pci_dev *pdev, unsigned int vectors);
void vpci_msi_arch_disable(struct vpci_msi *msi, const struct pci_dev *pdev);
void vpci_msi_arch_update(struct vpci_msi *msi, const struct pci_dev *pdev);
void vpci_msi_arch_init(struct vpci_msi *msi);
void vpci_msi_arch_print(const struct vpci_msi *msi);

/* rangeset.c's needs */
#define XSM_HOOK 0
#define safe_strcpy(d, s) strncpy(d, s, sizeof(d) - 1)
#define keyhandler_scratch ((char *)0)
int snprintf(char *s, size_t n, const char *fmt, ...);

#endif
