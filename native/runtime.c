/*
 * The symbols Xen's vPCI files leave undefined, supplied by the lab: allocation on the lab's checked heap, the
 * per-access checks and footprints (the tsan callbacks the compiler inserts around every load and store of the
 * Xen files), locks on the lab's lock words, config space, the p2m, softirqs and preemption. Anything the lab
 * needs JS for goes through cx_js (napi.c); a bad access unwinds to the entry with a crash report.
 *
 * Compiled without -fsanitize=thread: only the Xen files (and the control files) are instrumented.
 */
#include <stdarg.h>
#include <stdio.h>
#include "cx.h"

/* ---- the machine view (napi.c attach) ---- */
__thread int32_t *cx_M;
__thread uint64_t cx_bytes;
__thread uint32_t cx_heap_lo, cx_heap_words;
__thread uint8_t *cx_shadow;
__thread int32_t cx_k[16];             /* footprint constants, lib/cxen/addon.ts FP_CONSTS */
__thread int cx_checks = 1;            /* access checks and footprints on (a control turns them off) */

enum { K_STOP, K_VB, K_ARMED, K_STEP, K_FP_N, K_FP_OVER, K_STEP_FIRST, K_SNAP_N, K_FP, K_SNAP, K_FP_CAP, K_SNAP_CAP };
#define LIVE 1
#define FREED 2
#define MAX_COPY 1024

__thread struct vcpu *cx_current;
__thread struct domain *cx_hardware_domain, *cx_dom_xen;
__thread int cx_system_state_word;     /* the lab's system_state word (lib/xen/state.ts), 0: always active */
int cx_system_state_now(void) { return !cx_system_state_word || cx_M[cx_system_state_word] ? SYS_STATE_active : 1; }

void *cx_ptr(int64_t w) { return w ? (void *)((char *)cx_M + 4 * w) : NULL; }
int64_t cx_word(const void *p) { return p ? ((const char *)p - (const char *)cx_M) / 4 : 0; }

/* ---- footprints: lib/mem/footprint.ts fp(), the same entries in the same region ---- */
static void fp(uint32_t lo, uint32_t hi)
{
    int32_t *M = cx_M, vb = cx_k[K_VB];
    if ( __atomic_load_n(&M[cx_k[K_STOP]], __ATOMIC_SEQ_CST) != 0 )
        return;
    int32_t n = M[vb + cx_k[K_FP_N]], step = M[vb + cx_k[K_STEP]];
    int32_t *fpe = &M[vb + cx_k[K_FP]];
    for ( int32_t i = M[vb + cx_k[K_STEP_FIRST]]; i < n; i++ )
        if ( (uint32_t)fpe[4 * i + 1] <= lo && (uint32_t)fpe[4 * i + 2] >= hi )
            return;
    /* The access right after the step's last range: grow that range (its copy is the last one taken). */
    if ( n > M[vb + cx_k[K_STEP_FIRST]] )
    {
        int32_t *l = &fpe[4 * (n - 1)], s = M[vb + cx_k[K_SNAP_N]];
        if ( (uint32_t)l[1] <= lo && lo <= (uint32_t)l[2] && (uint32_t)l[2] < hi && l[3] >= 0 && l[3] + (l[2] - l[1]) == s &&
             l[2] - l[1] + (int32_t)(hi - l[2]) <= MAX_COPY && s + (int32_t)(hi - l[2]) <= cx_k[K_SNAP_CAP] )
        {
            memcpy(&M[vb + cx_k[K_SNAP] + s], &M[l[2]], 4 * (hi - l[2]));
            M[vb + cx_k[K_SNAP_N]] = s + (hi - l[2]);
            l[2] = hi;
            return;
        }
    }
    if ( n >= cx_k[K_FP_CAP] )
    {
        if ( M[vb + cx_k[K_FP_OVER]] == 0 )
            M[vb + cx_k[K_FP_OVER]] = step + 1;
        return;
    }
    int32_t *e = &fpe[4 * n], s = M[vb + cx_k[K_SNAP_N]], len = hi - lo;
    e[0] = step; e[1] = lo; e[2] = hi;
    if ( len > 0 && len <= MAX_COPY && s + len <= cx_k[K_SNAP_CAP] )
    {
        memcpy(&M[vb + cx_k[K_SNAP] + s], &M[lo], 4 * len);
        M[vb + cx_k[K_SNAP_N]] = s + len;
        e[3] = s;
    }
    else
        e[3] = -1;
    M[vb + cx_k[K_FP_N]] = n + 1;
}

/* ---- per-access checks (the compiler's tsan callbacks) ---- */
static __thread uintptr_t stack[64];
static __thread int sp;
int cx_stack_depth(void) { return sp; }
void cx_stack_reset(int depth) { sp = depth; }

static void bad(uintptr_t a, unsigned n, int write, uintptr_t pc) __attribute__((noreturn));
static void bad(uintptr_t a, unsigned n, int write, uintptr_t pc)
{
    const char *acc = write ? "write" : "read";
    uintptr_t off = a - (uintptr_t)cx_M;
    if ( off < cx_bytes )
    {
        uint32_t w = off / 4;
        if ( cx_shadow[w - cx_heap_lo] == FREED )
            cx_crash("use-after-free", pc, NULL, "%s of %u bytes at word 0x%x of a freed block; Xen: no fault, "
                     "the %s %s freed memory", acc, n, w, acc, write ? "corrupts" : "returns");
        cx_crash("null-deref", pc, NULL, "%s of %u bytes at word 0x%x, outside any live heap block", acc, n, w);
    }
    if ( (a >> 32) == 0x6b6b6b6b )
        cx_crash("use-after-free", pc, NULL, "%s through a pointer read from freed memory (0x%lx)", acc, (unsigned long)a);
    if ( (a >= 0x000ff000 && a < 0x00102000) || (a >= 0x001ff000 && a < 0x00202000) )
        cx_crash("use-after-free", pc, NULL, "%s through LIST_POISON (0x%lx): the entry was list_del'd", acc, (unsigned long)a);
    cx_crash("null-deref", pc, NULL, "%s of %u bytes at 0x%lx (NULL page or wild pointer)", acc, n, (unsigned long)a);
}

static inline void check(const void *p, unsigned n, int write, uintptr_t pc)
{
    uintptr_t a = (uintptr_t)p, off = a - (uintptr_t)cx_M;
    if ( !cx_checks )
        return;
    if ( off < cx_bytes )
    {
        uint32_t w = off / 4, last = (off + n - 1) / 4;
        if ( w - cx_heap_lo < cx_heap_words &&
             (cx_shadow[w - cx_heap_lo] != LIVE || cx_shadow[last - cx_heap_lo] != LIVE) )
            bad(a, n, write, pc);
        if ( cx_k[K_VB] && cx_M[cx_k[K_VB] + cx_k[K_ARMED]] )
            fp(w, last + 1);
        return;
    }
    /* Stack, thread-locals, the addon's own data and libc: not the machine's memory. What no mapping can hold:
     * NULL plus a field offset (the first 64 KiB, below mmap_min_addr), LIST_POISON1/2 (list.h, below the node
     * binary) and a pointer read from a poisoned block. */
    if ( a < 0x10000 || (a >= 0x000ff000 && a < 0x00102000) || (a >= 0x001ff000 && a < 0x00202000) ||
         (a >> 32) == 0x6b6b6b6b )
        bad(a, n, write, pc);
}

#define HOOK(n) \
    void __tsan_read##n(void *p) { check(p, n, 0, CX_PC()); } \
    void __tsan_write##n(void *p) { check(p, n, 1, CX_PC()); } \
    void __tsan_unaligned_read##n(void *p) { check(p, n, 0, CX_PC()); } \
    void __tsan_unaligned_write##n(void *p) { check(p, n, 1, CX_PC()); }
HOOK(1) HOOK(2) HOOK(4) HOOK(8) HOOK(16)
void __tsan_func_entry(void *caller) { (void)caller; if ( sp < 64 ) stack[sp] = CX_PC(); sp++; }
void __tsan_func_exit(void) { if ( sp > 0 ) sp--; }
void __tsan_init(void) {}
void __tsan_vptr_update(void **p, void *v) { (void)p; (void)v; }
void __tsan_vptr_read(void **p) { (void)p; }
uintptr_t cx_stack_at(int i) { return i < sp && i < 64 ? stack[i] : 0; }

/* ---- list walks that yield at each node (xen-shim.h list_for_each_entry): the model's, by function ---- */
static const struct { const char *func, *member; int kind; } walks[] = {
    { "pci_get_pdev", "alldevs_list", Y_LOOKUP },          /* head/pci.ts pci_get_pdev: site pci_get_pdev */
    { "modify_bars", "domain_list", Y_WALK_MODIFY_BARS },  /* header.ts: modify_bars:for_each_pdev */
    { "msix_find", "next", Y_WALK_MSIX_FIND },             /* msix.ts: msix_find */
};
/* 1 + the yield kind of a call site's walk, 0 for one that runs alone (asked once per site). */
int cx_walk_kind(const char *func, const char *member)
{
    for ( unsigned int i = 0; i < sizeof(walks) / sizeof(walks[0]); i++ )
        if ( !strcmp(func, walks[i].func) && !strcmp(member, walks[i].member) )
            return 1 + walks[i].kind;
    return 0;
}
void cx_walk_yield(int kind) { cx_js(CX_YIELD, kind, 0, 0, CX_PC()); }

/* ---- heap ---- */
void *_xzalloc(unsigned long size, unsigned long align)
{
    (void)align;
    double d = cx_js(CX_ALLOC, (double)((size + 3) / 4 ? (size + 3) / 4 : 1), 0, 0, CX_PC());
    int64_t w = (int64_t)d;
    if ( w < 0 || (uint64_t)w * 4 >= cx_bytes )
        cx_crash("bug", CX_PC(), NULL, "the lab's allocator answered %f for %lu bytes [M %p +%lx]", d, size, (void *)cx_M, (unsigned long)cx_bytes);
    return cx_ptr(w);
}
void *_xmalloc(unsigned long size, unsigned long align) { return _xzalloc(size, align); }
void xfree(void *p)
{
    uintptr_t pc = CX_PC();
    if ( !p )
        return;
    if ( (uintptr_t)p - (uintptr_t)cx_M >= cx_bytes )
    {
        if ( ((uintptr_t)p >> 32) == 0x6b6b6b6b )
            cx_crash("use-after-free", pc, NULL, "xfree of a pointer read from freed memory (%p)", p);
        cx_crash("bug", pc, NULL, "xfree of wild pointer %p", p);
    }
    cx_js(CX_FREE, (double)cx_word(p), 0, 0, pc);
}

/* ---- locks: the lab's lock code on the lock words (a NULL-based lock is the caller's NULL dereference) ---- */
static double lockop(int op, const void *l, uintptr_t pc)
{
    uintptr_t off = (uintptr_t)l - (uintptr_t)cx_M;
    /* A lock inside freed memory is the caller's access (the model reports its dereference of the struct). */
    if ( off >= cx_bytes || (off / 4 - cx_heap_lo < cx_heap_words && cx_shadow[off / 4 - cx_heap_lo] == FREED) )
        bad((uintptr_t)l, 4, 1, pc);
    return cx_js(op, (double)cx_word(l), 0, 0, pc);
}
void spin_lock_init(spinlock_t *l) { lockop(CX_SPIN_INIT, l, CX_PC()); }
void spin_lock(spinlock_t *l) { lockop(CX_SPIN_LOCK, l, CX_PC()); }
void spin_unlock(spinlock_t *l) { lockop(CX_SPIN_UNLOCK, l, CX_PC()); }
int spin_trylock(spinlock_t *l) { return lockop(CX_SPIN_TRYLOCK, l, CX_PC()) != 0; }
int spin_is_locked(const spinlock_t *l) { return lockop(CX_SPIN_IS_LOCKED, l, CX_PC()) != 0; }
void spin_lock_recursive(spinlock_t *l) { lockop(CX_SPIN_LOCK_REC, l, CX_PC()); }
void spin_unlock_recursive(spinlock_t *l) { lockop(CX_SPIN_UNLOCK_REC, l, CX_PC()); }
void rwlock_init(rwlock_t *l) { lockop(CX_RW_INIT, l, CX_PC()); }
void read_lock(rwlock_t *l) { lockop(CX_READ_LOCK, l, CX_PC()); }
void read_unlock(rwlock_t *l) { lockop(CX_READ_UNLOCK, l, CX_PC()); }
void write_lock(rwlock_t *l) { lockop(CX_WRITE_LOCK, l, CX_PC()); }
void write_unlock(rwlock_t *l) { lockop(CX_WRITE_UNLOCK, l, CX_PC()); }
int rw_is_locked(const rwlock_t *l) { return lockop(CX_RW_IS_LOCKED, l, CX_PC()) != 0; }
int rw_is_write_locked(const rwlock_t *l) { return lockop(CX_RW_IS_WRITE_LOCKED, l, CX_PC()) != 0; }

/* ---- ASSERT / BUG ---- */
void cx_assert_failed(const char *func, const char *what)
{
    cx_crash("assert", CX_PC(), func, "Assertion '%s' failed", what);
}
void cx_bug(const char *func, const char *what) { cx_crash("bug", CX_PC(), func, "%s", what); }

/* Struct copies and memset-like runs (pci.c's pdev->info = *info): the same check over the range. */
void __tsan_read_range(void *p, unsigned long n) { if ( n ) check(p, n, 0, CX_PC()); }
void __tsan_write_range(void *p, unsigned long n) { if ( n ) check(p, n, 1, CX_PC()); }
