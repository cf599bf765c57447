/*
 * The lab's side of the C backend, shared by runtime.c, the Xen entry wrappers and the control files: the
 * per-thread view of the machine (the SharedArrayBuffer), the JS hook, and entry points callable from JS.
 * A C pointer into the machine is base + 4 * (word offset); JS sees word offsets only.
 */
#ifndef CX_H
#define CX_H

#include <stdint.h>
#include <setjmp.h>

/* An entry point JS can call by name (lib/cxen/addon.ts): four integer arguments, one integer result. */
struct cx_entry { const char *name; int64_t (*fn)(int64_t, int64_t, int64_t, int64_t); };
#define CX_ENTRY(n)                                                                         \
    static int64_t n(int64_t a0, int64_t a1, int64_t a2, int64_t a3);                       \
    static const struct cx_entry n##_entry __attribute__((used, section("cx_entries"))) = { #n, n }; \
    static int64_t n(int64_t a0 __attribute__((unused)), int64_t a1 __attribute__((unused)), \
                     int64_t a2 __attribute__((unused)), int64_t a3 __attribute__((unused)))

/* Machine view of this thread (set by attach). */
extern __thread int32_t *cx_M;
void *cx_ptr(int64_t word);              /* word offset -> C pointer (0 -> NULL) */
int64_t cx_word(const void *p);          /* C pointer into the machine -> word offset (NULL -> 0) */

/* Calls into the lab (lib/cxen/hooks.ts); a JS exception or crash unwinds to the entry. */
enum cx_op {
    CX_SPIN_INIT, CX_SPIN_LOCK, CX_SPIN_UNLOCK, CX_SPIN_TRYLOCK, CX_SPIN_IS_LOCKED,
    CX_SPIN_LOCK_REC, CX_SPIN_UNLOCK_REC,
    CX_RW_INIT, CX_READ_LOCK, CX_READ_UNLOCK, CX_WRITE_LOCK, CX_WRITE_UNLOCK, CX_RW_IS_LOCKED, CX_RW_IS_WRITE_LOCKED,
    CX_ALLOC, CX_FREE,
    CX_CONF_READ, CX_CONF_WRITE,
    CX_MAP, CX_UNMAP, CX_PREEMPT, CX_SOFTIRQ, CX_DOMAIN_CRASH, CX_YIELD,
    CX_CALL,                             /* a vPCI init hook's fault point (lib/xen/fault.ts init_fault_point) */
    CX_IOMMU_ADD,                        /* the lab's iommu_add_device (its 'iommu' fault point), pci-glue.c */
    CX_NOT_SUPPLIED,
    CX_MSIX_ENTRY_WRITE,                 /* HEAD's MSI-X arch hooks program the device's table entry (lib/hw/msix.ts) */
    CX_REGISTER_MMIO,                    /* HEAD: register_mmio_handler, the lab's intercept now asks the C */
    CX_MMIO_READ, CX_MMIO_WRITE,         /* HEAD: a dword of device memory Xen mapped (ioremap'd MSI-X pages) */
    CX_P2M_LOOKUP, CX_P2M_CLEAR,         /* HEAD: get_gfn_query and p2m_remove_identity_entry on the lab's p2m */
};
/* CX_YIELD's kinds: lib/cxen/hooks.ts C_YIELD, in the same order (each names the model's site). */
enum cx_yield { Y_LOOKUP, Y_BEFORE_IOMMU_ADD, Y_IOMMU_FAILED, Y_REMOVE_AFTER_VPCI, Y_REMOVE_BEFORE_FREE,
    Y_WALK_MODIFY_BARS, Y_WALK_MSIX_FIND };
double cx_js(int op, double a, double b, double c, uintptr_t pc);
/* The same with a fourth argument (the p2m's mfn), given to the hook after pc. */
double cx_js4(int op, double a, double b, double c, double d, uintptr_t pc);

/* Crash reports: unwind to the entry with what the lab's crash path needs. */
void cx_crash(const char *kind, uintptr_t pc, const char *func, const char *fmt, ...) __attribute__((noreturn));
#define CX_PC() ((uintptr_t)__builtin_return_address(0))
/* A function the lab does not supply was reached (a generated stub, or one of the lab's C runtime): the lab's
 * error, not Xen's crash. The trial stops with no outcome (lib/cxen/addon.ts NotSupplied). */
void cx_not_supplied(const char *name, const char *what, uintptr_t pc) __attribute__((noreturn));
#define NOT_SUPPLIED(name) cx_not_supplied(#name, "a stub of the lab's C runtime", CX_PC())

#endif
