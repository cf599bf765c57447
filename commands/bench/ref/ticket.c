/*
 * C11 reference for `vpci-lab bench locks`: the same ticket lock as lib/sync/spinlock.ts (Xen's spinlock_t,
 * xen/common/spinlock.c at late 2021), with the same wait policy as lib/sync/wait.ts, in C11 atomics on pthreads.
 *
 *   lock:   ticket = fetch_add(&head_tail, 1 << 16) >> 16; if head == ticket we have it
 *   unlock: CAS head_tail from (head+1, head) to (head+1, head+1) (nobody queued), else a 16-bit add on head and
 *           wake the one waiter whose turn it now is (spinlock.ts ticket_release). The lab's plain store + tail re-read
 *           is slower in C than the CAS (~10 against ~6 ns a pair): the reference is the best C; the wakes are the same
 *
 * Wait policies (argument POLICY of the contended mode):
 *   futex  lib/sync/wait.ts line for line: only the next ticket holder spins (for SPIN_NS by the clock, and only
 *          while the holder runs); everyone else parks on its own ticket's slot (FUTEX_WAIT, 20 ms bound); an
 *          unlock wakes at most one thread; a thread that finds a waiter behind the holder yields, holding no
 *          ticket, before it takes one (admit_wait). The lab's Atomics.wait/notify are futex-like, so this is the
 *          like-for-like reference: the same algorithm, the same critical section, the same waits.
 *   yield  the next ticket holder spins with pause up to SPIN_LIMIT, everyone else calls sched_yield() (a
 *          policy Node cannot express; shown for information).
 *   v8wait futex's algorithm with each sleep and wake made as V8 makes Atomics.wait/notify (see v8_wait below).
 *
 * Modes:
 *   uncontended N                   one thread, N lock + counter++ + unlock
 *   contended N THREADS [POLICY]    THREADS threads, N acquisitions each, critical section = non-atomic increment
 *                                   of a shared counter on its own cache line (a lost update is a failure)
 *   timed MS THREADS [POLICY]       the same, each thread until MS ms have passed (halt tested every 64
 *                                   acquisitions): a fixed count per thread lets 8 threads on 2 cores run one
 *                                   after another, each alone and uncontended, however long the round
 *   timed MS THREADS POLICY HOLD_NS the same with a busy wait of HOLD_NS inside the critical section (a diagnostic:
 *                                   C made to hold its lock as long as the lab's pair takes, to tell what the
 *                                   lab's contended cost owes to its longer pair from what it owes to its waits)
 * Output: one JSON line: {"mode", "threads", "ops", "ns", "starts": [ns...], "ends": [ns...], "sleeps", "waits"}:
 * starts/ends are each thread's entry to and exit from its loop (CLOCK_MONOTONIC ns, relative to the first start;
 * a round counts only if every thread was inside its loop for most of it); waits: wait.ts WAIT_COUNTS, summed.
 * Build: cc -O2 -std=c11 -pthread ticket.c -o ticket
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() do { } while (0)
#endif

#define SPIN_LIMIT 4096     /* wait.ts SPIN_LIMIT */
#define SLOTS 16            /* wait.ts TICKET_SLOTS */
#define PARKED 0x10000u
#define MAX_T 64

/* The lab's spinlock_t words in the same order: tickets, recurse, debug, cls, sleepers, handoff, slots. */
typedef struct {
    _Atomic uint32_t head_tail;
    uint32_t recurse, debug, cls, sleepers;
    _Atomic uint32_t handoff;
    _Atomic uint32_t slot[SLOTS];
} spinlock_t;

static int policy_futex = 1;
/* wait.ts WAIT_COUNTS (WC_SLEEPS: parks that went to sleep), one row per thread, summed at the end ("waits") */
enum { WC_WAITS, WC_AHEAD, WC_SPINS, WC_SPIN_OUT, WC_PARK_ON_HANDOFF, WC_SLEEPS, WC_SLEEP_US, WC_WAKE_HOLDER, WC_WAKE_NEXT,
       WC_ADMITS, WC_YIELDS, WC_N };
static double wcs[MAX_T + 1][WC_N]; static _Thread_local double *wc = wcs[MAX_T];
static double spin_ns = 50000;  /* wait.ts SPIN_NS */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}


/*
 * policy v8wait: the waits Node's Atomics.wait/notify really make (V8's FutexEmulation): one process-wide mutex
 * guards every waiter, each waiter sleeps on its own condition variable tied to that mutex, and a notify signals
 * with the mutex held, so a woken waiter first queues for the mutex the notifier holds.
 */
static int policy_v8wait = 0;
static pthread_mutex_t v8_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t v8_cond[SLOTS];
static int v8_waiting[SLOTS];
static _Atomic uint32_t *v8_slot0;

static void v8_wait(_Atomic uint32_t *w, uint32_t val)
{
    int i = (int)(w - v8_slot0);
    struct timespec to;
    clock_gettime(CLOCK_MONOTONIC, &to);
    to.tv_nsec += 20 * 1000 * 1000;
    if (to.tv_nsec >= 1000000000L) { to.tv_sec++; to.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&v8_mutex);
    if (atomic_load(w) == val) {
        v8_waiting[i]++;
        pthread_cond_timedwait(&v8_cond[i], &v8_mutex, &to);
        v8_waiting[i]--;
    }
    pthread_mutex_unlock(&v8_mutex);
}

static void v8_wake1(_Atomic uint32_t *w)
{
    int i = (int)(w - v8_slot0);
    pthread_mutex_lock(&v8_mutex);
    if (v8_waiting[i]) pthread_cond_signal(&v8_cond[i]);
    pthread_mutex_unlock(&v8_mutex);
}

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
    if (policy_v8wait) { v8_wait(w, val); return; }
    struct timespec to = { 0, 20 * 1000 * 1000 };
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val, &to, NULL, 0);
}
static void futex_wake1(_Atomic uint32_t *w)
{
    if (policy_v8wait) { v8_wake1(w); return; }
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static int cas(_Atomic uint32_t *w, uint32_t expect, uint32_t val)
{
    return atomic_compare_exchange_strong(w, &expect, val);
}

static void unpark(spinlock_t *l, uint32_t ticket)
{
    _Atomic uint32_t *s = &l->slot[ticket & (SLOTS - 1)];
    if (atomic_load(s) == (ticket | PARKED) && cas(s, ticket | PARKED, 0)) { wc[WC_WAKE_NEXT]++; futex_wake1(s); }
}

static void park(spinlock_t *l, uint32_t ticket, int at_head)
{
    _Atomic uint32_t *s = &l->slot[ticket & (SLOTS - 1)];
    uint32_t mark = ticket | PARKED;
    atomic_store(s, mark);
    uint32_t d = (ticket - atomic_load(&l->head_tail)) & 0xffff;
    if (d > 1 || (d == 1 && at_head)) { double t0 = now_ns(); futex_wait(s, mark); wc[WC_SLEEPS]++; wc[WC_SLEEP_US] += (now_ns() - t0) / 1e3; }
    cas(s, mark, 0);
}

static void ticket_wait(spinlock_t *l, uint32_t ticket)
{
    unsigned spins = 0;
    double until = 0;
    wc[WC_WAITS]++;
    uint32_t d0 = (ticket - atomic_load(&l->head_tail)) & 0xffff; if (d0 > 1) wc[WC_AHEAD] += d0 - 1;
    for (;;) {
        uint32_t v = atomic_load(&l->head_tail);
        uint32_t d = (ticket - v) & 0xffff;
        if (d == 0) {
            if (policy_futex && atomic_load(&l->handoff) == (ticket | PARKED) && cas(&l->handoff, ticket | PARKED, 0))
                unpark(l, (ticket + 1) & 0xffff);
            return;
        }
        if (!policy_futex) {
            if (d == 1 && spins < SPIN_LIMIT) { spins++; cpu_relax(); continue; }
            sched_yield();
            spins = 0;
            continue;
        }
        if (d == 1) {
            if (atomic_load(&l->handoff) != ((v & 0xffff) | PARKED)) {
                if (until == 0) { until = now_ns() + spin_ns; wc[WC_SPINS]++; }
                if ((++spins & 63) != 0 || now_ns() < until) continue;
                wc[WC_SPIN_OUT]++;
            } else wc[WC_PARK_ON_HANDOFF]++;
        }
        park(l, ticket, d == 1);
        spins = 0; until = 0;
    }
}

static void ticket_wake(spinlock_t *l, uint32_t head)
{
    uint32_t mark = head | PARKED;
    _Atomic uint32_t *s = &l->slot[head & (SLOTS - 1)];
    if (atomic_load(s) == mark) {
        atomic_store(&l->handoff, mark);
        if (cas(s, mark, 0)) { wc[WC_WAKE_HOLDER]++; futex_wake1(s); return; }
        cas(&l->handoff, mark, 0);
    }
    unpark(l, (head + 1) & 0xffff);
}

/* wait.ts admitWait: with a waiter already behind the holder, yield holding no ticket until the queue is down to the
 * holder or SPIN_NS has passed, then take the ticket. */
static void admit_wait(spinlock_t *l)
{
    wc[WC_ADMITS]++;
    double until = now_ns() + spin_ns;
    for (;;) {
        wc[WC_YIELDS]++;
        sched_yield();
        uint32_t v = atomic_load(&l->head_tail);
        if ((((v >> 16) - v) & 0xffff) < 2 || now_ns() >= until) return;
    }
}

static void spin_lock(spinlock_t *l)
{
    if (policy_futex) {
        uint32_t v = atomic_load_explicit(&l->head_tail, memory_order_relaxed);
        if ((((v >> 16) - v) & 0xffff) >= 2) admit_wait(l);
    }
    uint32_t old = atomic_fetch_add(&l->head_tail, 0x10000u);
    uint32_t ticket = old >> 16;
    if ((old & 0xffff) == ticket) return;
    ticket_wait(l, ticket);
}

static void spin_unlock(spinlock_t *l)
{
    uint32_t v = atomic_load_explicit(&l->head_tail, memory_order_relaxed);
    uint32_t head = v & 0xffff, next = (head + 1) & 0xffff;
    if (cas(&l->head_tail, (next << 16) | head, (next << 16) | next)) return;
    atomic_fetch_add((_Atomic uint16_t *)&l->head_tail, 1); /* little-endian: head is the low half */
    if (policy_futex) ticket_wake(l, next);
}

/* One cache line each, so that the counter does not share the lock's lines. */
static _Alignas(64) spinlock_t lock;
static _Alignas(64) volatile long counter;
static _Alignas(64) atomic_int ready;
static long per_thread;
static int nthreads;
static double starts[MAX_T], ends[MAX_T];
/* Timed rounds: threads run until `halt`, tested every 64 acquisitions (as the lab's workers do), and count. */
static _Alignas(64) atomic_int halt;
static int timed;
static long counts[MAX_T];
/*
 * HOLD_NS as iterations of an empty volatile loop, calibrated at start (the fastest of 20 samples of 0.2 ms). busy
 * is not inlined and the calibration's count is read from a volatile: with a constant count inlined, gcc -O2 made a
 * loop ~6x faster per iteration than the one the critical section runs, and a 35 ns hold took ~240 ns.
 */
static long hold_loops;
static volatile long calib_chunk = 1000;
__attribute__((noinline)) static void busy(long n) { for (volatile long i = 0; i < n; i++) { } }
static long loops_for(double ns)
{
    double best = 0;
    for (int k = 0; k < 20; k++) {
        long n = 0, chunk = calib_chunk; double t0 = now_ns(), t1;
        do { busy(chunk); n += chunk; t1 = now_ns(); } while (t1 - t0 < 200000);
        if (n / (t1 - t0) > best) best = n / (t1 - t0);
    }
    return (long)(ns * best + 0.5);
}

static void *worker(void *arg)
{
    long me = (long)arg;
    wc = wcs[me];
    atomic_fetch_add(&ready, 1);
    while (atomic_load(&ready) < nthreads) sched_yield();
    starts[me] = now_ns();
    if (timed) {
        long n = 0;
        while (!atomic_load(&halt)) {
            for (int i = 0; i < 64; i++) { spin_lock(&lock); counter = counter + 1; if (hold_loops) busy(hold_loops); spin_unlock(&lock); }
            n += 64;
        }
        counts[me] = n;
    } else {
        for (long i = 0; i < per_thread; i++) {
            spin_lock(&lock);
            counter = counter + 1;
            spin_unlock(&lock);
        }
        counts[me] = per_thread;
    }
    ends[me] = now_ns();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s uncontended N | contended N THREADS [futex|yield] | timed MS THREADS [futex|yield|v8wait [HOLD_NS]]\n", argv[0]); return 2; }
    long n = atol(argv[2]);
    if (strcmp(argv[1], "uncontended") == 0) {
        for (long i = 0; i < n / 10; i++) { spin_lock(&lock); counter = counter + 1; spin_unlock(&lock); } /* warm up */
        double t0 = now_ns();
        for (long i = 0; i < n; i++) { spin_lock(&lock); counter = counter + 1; spin_unlock(&lock); }
        double ns = now_ns() - t0;
        printf("{\"mode\":\"uncontended\",\"threads\":1,\"ops\":%ld,\"ns\":%.0f}\n", n, ns);
        return 0;
    }
    if ((strcmp(argv[1], "contended") == 0 || strcmp(argv[1], "timed") == 0) && argc >= 4) {
        /* timed: N is the round's length in ms; the threads stop together when it has passed. */
        timed = strcmp(argv[1], "timed") == 0;
        nthreads = atoi(argv[3]);
        if (nthreads < 1 || nthreads > MAX_T) return 2;
        if (argc >= 5) policy_futex = strcmp(argv[4], "yield") != 0;
        if (argc >= 5) policy_v8wait = strcmp(argv[4], "v8wait") == 0;
        v8_slot0 = &lock.slot[0];
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        for (int i = 0; i < SLOTS; i++) pthread_cond_init(&v8_cond[i], &ca);
        if (getenv("VPCI_SPIN_NS") && *getenv("VPCI_SPIN_NS") && atof(getenv("VPCI_SPIN_NS")) >= 0) spin_ns = atof(getenv("VPCI_SPIN_NS"));
        if (argc >= 6 && timed && atof(argv[5]) > 0) hold_loops = loops_for(atof(argv[5]));
        per_thread = n;
        pthread_t th[MAX_T];
        counter = 0;
        atomic_store(&ready, 0);
        atomic_store(&halt, 0);
        for (long i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, worker, (void *)i);
        if (timed) {
            struct timespec ts = { n / 1000, (n % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            atomic_store(&halt, 1);
        }
        for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
        long total = 0;
        for (int i = 0; i < nthreads; i++) total += counts[i];
        if (counter != total) { fprintf(stderr, "lost update: %ld of %ld\n", counter, total); return 1; }
        double t0 = starts[0], t1 = ends[0];
        for (int i = 1; i < nthreads; i++) { if (starts[i] < t0) t0 = starts[i]; if (ends[i] > t1) t1 = ends[i]; }
        printf("{\"mode\":\"contended\",\"threads\":%d,\"ops\":%ld,\"ns\":%.0f,\"starts\":[", nthreads, total, t1 - t0);
        for (int i = 0; i < nthreads; i++) printf("%s%.0f", i ? "," : "", starts[i] - t0);
        printf("],\"ends\":[");
        for (int i = 0; i < nthreads; i++) printf("%s%.0f", i ? "," : "", ends[i] - t0);
        double w[WC_N] = { 0 };
        for (int i = 0; i < nthreads; i++) for (int k = 0; k < WC_N; k++) w[k] += wcs[i][k];
        printf("],\"sleeps\":%.0f,\"waits\":[", w[WC_SLEEPS]);
        for (int i = 0; i < WC_N; i++) printf("%s%.0f", i ? "," : "", w[i]);
        printf("]}\n");
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
