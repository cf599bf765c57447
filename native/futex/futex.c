/*
 * futex wait/wake on the words of a SharedArrayBuffer, for the lab's locks and controlled scheduler (lib/sched/futex.ts
 * loads it; compiled at run time with the system cc against Node's headers, cached). V8's Atomics.wait/notify take
 * one process-wide mutex and a condition variable per waiter; the kernel's futex takes neither. A futex waiter and
 * an Atomics.wait waiter cannot wake each other: one mechanism must own a whole run (futex.ts: per machine).
 *
 *   wait(i32, index, expected, timeoutMs) -> 0 woken (or spurious), 1 not-equal, 2 timed out
 *   wake(i32, index, count)               -> threads woken
 *   now()                                 -> CLOCK_MONOTONIC in ms (a double, like performance.now's unit)
 *   yield()                               -> sched_yield()
 *   cpus()                                -> the CPUs this thread may run on (its affinity when first asked), ascending
 *   pin(cpu)                              -> run this thread on that CPU only; pin(-1) gives it back those CPUs;
 *                                            0 done, else errno
 *   confine(cpus, tids)                   -> the process's threads `tids` run on `cpus` only, and so does every thread
 *                                            later (cpus() and pin(-1) give those); 0 done, else the first errno
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <node_api.h>

static int word_of(napi_env env, napi_value arr, napi_value idx, int32_t **out)
{
    napi_typedarray_type type;
    size_t length, offset;
    void *data;
    napi_value buf;
    uint32_t i;
    if (napi_get_typedarray_info(env, arr, &type, &length, &data, &buf, &offset) != napi_ok || type != napi_int32_array) return -1;
    if (napi_get_value_uint32(env, idx, &i) != napi_ok || i >= length) return -1;
    *out = (int32_t *)data + i;
    return 0;
}

static napi_value fail(napi_env env, const char *msg)
{
    napi_throw_type_error(env, NULL, msg);
    return NULL;
}

static napi_value int_value(napi_env env, int32_t v)
{
    napi_value r;
    napi_create_int32(env, v, &r);
    return r;
}

static napi_value js_wait(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    int32_t *w, expected;
    double ms;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 4 || word_of(env, argv[0], argv[1], &w) != 0) return fail(env, "wait(i32, index, expected, timeoutMs)");
    napi_get_value_int32(env, argv[2], &expected);
    napi_get_value_double(env, argv[3], &ms);
    if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != expected) return int_value(env, 1);
    struct timespec to = { (time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6) };
    long rc = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, (uint32_t)expected, ms >= 0 ? &to : NULL, NULL, 0);
    if (rc == 0) return int_value(env, 0);
    return int_value(env, errno == EAGAIN ? 1 : errno == ETIMEDOUT ? 2 : 0);
}

static napi_value js_wake(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    int32_t *w, count;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 3 || word_of(env, argv[0], argv[1], &w) != 0) return fail(env, "wake(i32, index, count)");
    napi_get_value_int32(env, argv[2], &count);
    long rc = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, count < 0 ? INT32_MAX : count, NULL, NULL, 0);
    return int_value(env, rc < 0 ? 0 : (int32_t)rc);
}

static napi_value js_now(napi_env env, napi_callback_info info)
{
    struct timespec ts;
    napi_value r;
    (void)info;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    napi_create_double(env, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6, &r);
    return r;
}

static napi_value js_yield(napi_env env, napi_callback_info info)
{
    (void)info;
    sched_yield();
    return NULL;
}

/* The affinity of the first thread to ask (no thread is pinned before it asks): what pin(-1) restores. */
static cpu_set_t allowed;
static int allowed_known;
static pthread_once_t allowed_once = PTHREAD_ONCE_INIT;

static void read_allowed(void) { allowed_known = sched_getaffinity(0, sizeof allowed, &allowed) == 0; }
static void know_allowed(void) { pthread_once(&allowed_once, read_allowed); }

static napi_value js_cpus(napi_env env, napi_callback_info info)
{
    napi_value arr;
    uint32_t n = 0;
    (void)info;
    know_allowed();
    napi_create_array(env, &arr);
    for (int c = 0; allowed_known && c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed)) napi_set_element(env, arr, n++, int_value(env, c));
    return arr;
}

static napi_value js_pin(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    int32_t cpu;
    cpu_set_t set;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 1 || napi_get_value_int32(env, argv[0], &cpu) != napi_ok || cpu >= CPU_SETSIZE) return fail(env, "pin(cpu)");
    know_allowed();
    if (!allowed_known) return int_value(env, ENOSYS);
    if (cpu < 0) set = allowed;
    else { CPU_ZERO(&set); CPU_SET(cpu, &set); }
    return int_value(env, sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno); /* 0: the calling thread */
}

static int uint_list(napi_env env, napi_value arr, uint32_t i, int32_t *v)
{
    napi_value e;
    return napi_get_element(env, arr, i, &e) == napi_ok && napi_get_value_int32(env, e, v) == napi_ok ? 0 : -1;
}

static napi_value js_confine(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    uint32_t ncpus, ntids;
    int32_t v;
    int err = 0;
    cpu_set_t set;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 2 || napi_get_array_length(env, argv[0], &ncpus) != napi_ok || napi_get_array_length(env, argv[1], &ntids) != napi_ok || ncpus == 0)
        return fail(env, "confine(cpus, tids)");
    CPU_ZERO(&set);
    for (uint32_t i = 0; i < ncpus; i++) {
        if (uint_list(env, argv[0], i, &v) != 0 || v < 0 || v >= CPU_SETSIZE) return fail(env, "confine(cpus, tids): a CPU number");
        CPU_SET(v, &set);
    }
    know_allowed();
    allowed = set; /* before the threads move: a thread that asks from now on is told these */
    allowed_known = 1;
    for (uint32_t i = 0; i < ntids; i++) {
        if (uint_list(env, argv[1], i, &v) != 0) return fail(env, "confine(cpus, tids): a thread id");
        if (sched_setaffinity(v, sizeof set, &set) != 0 && errno != ESRCH && err == 0) err = errno; /* ESRCH: it has exited */
    }
    return int_value(env, err);
}

NAPI_MODULE_INIT()
{
    napi_property_descriptor p[] = {
        { "wait", NULL, js_wait, NULL, NULL, NULL, napi_default, NULL },
        { "wake", NULL, js_wake, NULL, NULL, NULL, napi_default, NULL },
        { "now", NULL, js_now, NULL, NULL, NULL, napi_default, NULL },
        { "yield", NULL, js_yield, NULL, NULL, NULL, napi_default, NULL },
        { "cpus", NULL, js_cpus, NULL, NULL, NULL, napi_default, NULL },
        { "pin", NULL, js_pin, NULL, NULL, NULL, napi_default, NULL },
        { "confine", NULL, js_confine, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof p / sizeof p[0], p);
    return exports;
}
