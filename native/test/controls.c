/*
 * The lab's control programs for the C backend, compiled like Xen's files (with the shim and the per-access
 * callbacks), so that what they show holds for the Xen code compiled beside them:
 *  - regs: Xen's own register dispatch (vpci_add_register, vpci_read, vpci_write) driven as tools/tests/vpci
 *    drives it, with handlers that keep each register's value in the heap;
 *  - uaf: a pointer read under a lock and used after the lock is dropped, while another CPU frees the object;
 *  - race: a read-modify-write of a shared counter with no lock held across it (each CPU takes a lock of its own
 *    between the read and the write, which protects nothing): a lost update fails the final ASSERT.
 * Shared objects live on the lab's heap; JS hands their word offsets to every CPU.
 */
#include "cx.h"

static uint32_t r32(const struct pci_dev *pdev, unsigned int reg, void *data) { return *(uint32_t *)data; }
static void w32(const struct pci_dev *pdev, unsigned int reg, uint32_t val, void *data) { *(uint32_t *)data = val; }
static uint32_t r16(const struct pci_dev *pdev, unsigned int reg, void *data) { return *(uint16_t *)data; }
static void w16(const struct pci_dev *pdev, unsigned int reg, uint32_t val, void *data) { *(uint16_t *)data = val; }
static uint32_t r8(const struct pci_dev *pdev, unsigned int reg, void *data) { return *(uint8_t *)data; }
static void w8(const struct pci_dev *pdev, unsigned int reg, uint32_t val, void *data) { *(uint8_t *)data = val; }

/* t_regs(pdev): a vpci with registers as tools/tests/vpci/main.c sets them up; returns 0 or the failing step */
CX_ENTRY(t_regs)
{
    struct pci_dev *pdev = cx_ptr(a0);
    struct vpci *vpci = xzalloc(struct vpci);
    uint32_t *r0 = xzalloc(uint32_t);
    uint8_t *r5 = xzalloc_array(uint8_t, 3);
    uint16_t *r12 = xzalloc(uint16_t);

    INIT_LIST_HEAD(&vpci->handlers);
    spin_lock_init(&vpci->lock);
    pdev->vpci = vpci;
    *r0 = 0xdeadbeef;
    r5[0] = 0xef; r5[1] = 0xbe; r5[2] = 0xef;
    *r12 = 0x8696;
    if ( vpci_add_register(vpci, r32, w32, 0, 4, r0) ) return 1;
    for ( unsigned int i = 0; i < 3; i++ )
        if ( vpci_add_register(vpci, r8, w8, 5 + i, 1, &r5[i]) ) return 2;
    if ( vpci_add_register(vpci, r16, w16, 12, 2, r12) ) return 3;
    if ( !vpci_add_register(vpci, r32, w32, 4, 4, r0) ) return 4;     /* overlaps 5..7: -EEXIST */
    if ( !vpci_add_register(vpci, r16, w16, 15, 2, r12) ) return 5;   /* misaligned: -EINVAL */
    return 0;
}

struct shared {
    spinlock_t lock;
    spinlock_t own[2];
    struct item { uint32_t value; } *item;
    uint32_t counter, done;
};

/* t_shared(): the object both CPUs of a control use */
CX_ENTRY(t_shared)
{
    struct shared *s = xzalloc(struct shared);
    spin_lock_init(&s->lock);
    spin_lock_init(&s->own[0]);
    spin_lock_init(&s->own[1]);
    s->item = xzalloc(struct item);
    return cx_word(s);
}

/* uaf: CPU 0 unpublishes and frees the item; CPU 1 reads the pointer under the lock and uses it after. */
CX_ENTRY(t_uaf_free)
{
    struct shared *s = cx_ptr(a0);
    struct item *it;
    spin_lock(&s->lock);
    it = s->item;
    s->item = NULL;
    spin_unlock(&s->lock);
    xfree(it);
    return 0;
}

CX_ENTRY(t_uaf_use)
{
    struct shared *s = cx_ptr(a0);
    struct item *it;
    spin_lock(&s->lock);
    it = s->item;
    spin_unlock(&s->lock);
    if ( it )
        it->value++;          /* the object may be gone by now */
    return 0;
}

/* race: cpu a1 increments the counter with no lock held across the read and the write. */
CX_ENTRY(t_race_bump)
{
    struct shared *s = cx_ptr(a0);
    uint32_t v = s->counter;
    uint32_t d;
    spin_lock(&s->own[a1]);   /* a lock of this CPU's own: a scheduling point, no protection */
    spin_unlock(&s->own[a1]);
    s->counter = v + 1;
    spin_lock(&s->lock);
    d = ++s->done;
    spin_unlock(&s->lock);
    if ( d == 2 )
        ASSERT(s->counter == 2);
    return s->counter;
}

/* t_shared_in(word): the control's object for a scenario machine, made by whichever CPU comes first and kept in
 * the machine word `word` (the Xen state's reserved word: a scenario under a TypeScript strategy leaves it 0). */
CX_ENTRY(t_shared_in)
{
    int32_t *slot = &cx_M[a0];
    if ( *slot == 0 )
        *slot = (int32_t)t_shared(0, 0, 0, 0);
    return *slot;
}
