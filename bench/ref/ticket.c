/*
 * C11 reference for `vpci-lab bench locks`: the same ticket lock as lib/sync/spinlock.ts (Xen's spinlock_t,
 * xen/common/spinlock.c at late 2021), in C11 atomics on pthreads.
 *
 *   lock:   ticket = fetch_add(&head_tail, 1 << 16) >> 16; spin until head == ticket
 *   unlock: fetch_add(&head, 1) with release order (on x86 a locked add, like Xen's smp_mb() + add_sized())
 *
 * Waiting is fair to the reference: the next ticket holder spins with a pause instruction; a waiter further back,
 * or one that has spun for a while, calls sched_yield() so that a descheduled holder can run (the C analogue of the
 * lab's Atomics.wait backoff; without it 8 threads on 2 cores would spin through whole time slices).
 *
 * Modes (the same workloads as bench/locks.ts):
 *   uncontended N            one thread, N lock+unlock pairs
 *   contended   N THREADS    THREADS threads, N acquisitions each, critical section = non-atomic increment of a
 *                            shared counter (checked at the end: a lost update is a failure)
 * Output: one JSON line per run: {"mode":..., "threads":..., "ops":..., "ns":...}
 * Build: cc -O2 -std=c11 -pthread ticket.c -o ticket
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() do { } while (0)
#endif

#define SPIN_LIMIT 4096 /* pause-loops the next ticket holder spins before yielding */

typedef struct {
    union {
        _Atomic uint32_t head_tail;
        struct { _Atomic uint16_t head, tail; } t; /* little-endian: head = bits 0-15, tail = bits 16-31 */
    };
} spinlock_t;

static void spin_lock(spinlock_t *l)
{
    uint16_t ticket = (uint16_t)(atomic_fetch_add_explicit(&l->head_tail, 0x10000u, memory_order_acq_rel) >> 16);
    unsigned spins = 0;
    for (;;) {
        uint16_t head = atomic_load_explicit(&l->t.head, memory_order_acquire);
        if (head == ticket) return;
        if ((uint16_t)(ticket - head) == 1 && spins < SPIN_LIMIT) { spins++; cpu_relax(); continue; }
        sched_yield();
        spins = 0;
    }
}

static void spin_unlock(spinlock_t *l)
{
    atomic_fetch_add_explicit(&l->t.head, 1, memory_order_release);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One cache line each, so that the counter does not share the lock's line. */
static _Alignas(64) spinlock_t lock;
static _Alignas(64) volatile long counter;
static _Alignas(64) atomic_int ready;
static long per_thread;
static int nthreads;

static void *worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ready, 1);
    while (atomic_load(&ready) < nthreads) sched_yield();
    for (long i = 0; i < per_thread; i++) {
        spin_lock(&lock);
        counter = counter + 1;
        spin_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s uncontended N | contended N THREADS\n", argv[0]); return 2; }
    long n = atol(argv[2]);
    if (strcmp(argv[1], "uncontended") == 0) {
        for (long i = 0; i < n / 10; i++) { spin_lock(&lock); counter++; spin_unlock(&lock); } /* warm up */
        double t0 = now_ns();
        for (long i = 0; i < n; i++) { spin_lock(&lock); counter = counter + 1; spin_unlock(&lock); }
        double ns = now_ns() - t0;
        printf("{\"mode\":\"uncontended\",\"threads\":1,\"ops\":%ld,\"ns\":%.0f}\n", n, ns);
        return 0;
    }
    if (strcmp(argv[1], "contended") == 0 && argc >= 4) {
        nthreads = atoi(argv[3]);
        if (nthreads < 1 || nthreads > 256) return 2;
        per_thread = n;
        pthread_t th[256];
        counter = 0;
        atomic_store(&ready, 0);
        double t0 = now_ns();
        for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, worker, NULL);
        for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
        double ns = now_ns() - t0;
        if (counter != per_thread * nthreads) { fprintf(stderr, "lost update: %ld of %ld\n", counter, per_thread * nthreads); return 1; }
        printf("{\"mode\":\"contended\",\"threads\":%d,\"ops\":%ld,\"ns\":%.0f}\n", nthreads, per_thread * nthreads, ns);
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
