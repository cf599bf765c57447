/*
 * The Node-API face of the C backend. JS (lib/cxen/addon.ts) attaches the machine's SharedArrayBuffer (through an
 * Int32Array view: C pointers are base + 4 * word offset), installs one hook function (lib/cxen/hooks.ts) through
 * which C calls the lab synchronously, and calls entries by index. Everything is per thread: each worker thread is
 * one CPU of the machine, and napi_env is only valid on the thread that got it.
 *
 * A crash (bad access, ASSERT, a lab crash thrown by a hook) unwinds to the entry with longjmp: Xen's code is plain
 * C with no cleanup to run, and the trial ends with that crash anyway, as Xen would have panicked.
 */
#include <node_api.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cx.h"

extern __thread uint64_t cx_bytes;
extern __thread uint32_t cx_heap_lo, cx_heap_words;
extern __thread uint8_t *cx_shadow;
extern __thread int32_t cx_k[16];
extern __thread int cx_checks;
int cx_stack_depth(void);
void cx_stack_reset(int depth);
uintptr_t cx_stack_at(int i);

extern const struct cx_entry __start_cx_entries[], __stop_cx_entries[];

static __thread napi_env T_env;
static __thread napi_ref T_hook;
static __thread jmp_buf *T_jmp;
static __thread struct { int set; int js; char kind[24]; uintptr_t pc; char func[64]; char detail[256]; } T_crash;

/* An address inside this object, for JS to find where the object was loaded (symbols come from nm). */
int cx_anchor(void) { return 0; }

void cx_crash(const char *kind, uintptr_t pc, const char *func, const char *fmt, ...)
{
    va_list ap;
    T_crash.set = 1;
    T_crash.js = 0;
    snprintf(T_crash.kind, sizeof(T_crash.kind), "%s", kind);
    T_crash.pc = pc;
    snprintf(T_crash.func, sizeof(T_crash.func), "%s", func ? func : "");
    va_start(ap, fmt);
    vsnprintf(T_crash.detail, sizeof(T_crash.detail), fmt, ap);
    va_end(ap);
    if ( !T_jmp )
        __builtin_trap();   /* a crash outside any entry is the lab's bug */
    longjmp(*T_jmp, 1);
}

void cx_not_supplied(const char *name, const char *what, uintptr_t pc)
{
    cx_crash("not-supplied", pc, name, "%s", what);
}

double cx_js(int op, double a, double b, double c, uintptr_t pc) { return cx_js4(op, a, b, c, 0, pc); }

double cx_js4(int op, double a, double b, double c, double d, uintptr_t pc)
{
    napi_env env = T_env;
    napi_handle_scope scope;
    napi_value fn, undef, res, argv[6];
    double v = 0;
    napi_open_handle_scope(env, &scope);
    napi_get_reference_value(env, T_hook, &fn);
    napi_get_undefined(env, &undef);
    napi_create_int32(env, op, &argv[0]);
    napi_create_double(env, a, &argv[1]);
    napi_create_double(env, b, &argv[2]);
    napi_create_double(env, c, &argv[3]);
    napi_create_double(env, (double)(intptr_t)(pc - (uintptr_t)&cx_anchor), &argv[4]);
    napi_create_double(env, d, &argv[5]);
    if ( napi_call_function(env, undef, fn, 6, argv, &res) != napi_ok )
    {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        napi_close_handle_scope(env, scope);
        if ( !pending )
            cx_crash("bug", pc, "cx_js", "the lab's hook could not be called (op %d): addon not attached on this thread", op);
        /* The exception stays pending: it is the crash, thrown when the entry returns to JS. */
        T_crash.set = 1;
        T_crash.js = 1;
        longjmp(*T_jmp, 1);
    }
    napi_get_value_double(env, res, &v);
    napi_close_handle_scope(env, scope);
    return v;
}

static napi_value num(napi_env env, double v) { napi_value r; napi_create_double(env, v, &r); return r; }

/* attach(m: Int32Array, heapLo, heapWords, shadowByte, consts: Int32Array, hook: Function) */
static napi_value attach(napi_env env, napi_callback_info info)
{
    size_t argc = 6;
    napi_value argv[6];
    napi_typedarray_type t;
    size_t len, off;
    void *data;
    napi_value ab;
    uint32_t heap_lo, heap_words, shadow;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    napi_get_typedarray_info(env, argv[0], &t, &len, &data, &ab, &off);
    cx_M = data;
    cx_bytes = (uint64_t)len * 4;
    napi_get_value_uint32(env, argv[1], &heap_lo);
    napi_get_value_uint32(env, argv[2], &heap_words);
    napi_get_value_uint32(env, argv[3], &shadow);
    cx_heap_lo = heap_lo;
    cx_heap_words = heap_words;
    cx_shadow = (uint8_t *)data + shadow;
    napi_get_typedarray_info(env, argv[4], &t, &len, &data, &ab, &off);
    memcpy(cx_k, data, (len < 16 ? len : 16) * 4);
    if ( T_hook )
        napi_delete_reference(env, T_hook);
    napi_create_reference(env, argv[5], 1, &T_hook);
    /* Where word 0 and the code are in this process: C's pointers are absolute (data, and function pointers such
     * as register handlers), and the state digest reads them relative to these. */
    napi_value r = NULL;
    napi_create_array_with_length(env, 2, &r);
    napi_set_element(env, r, 0, num(env, (double)(uintptr_t)cx_M));
    napi_set_element(env, r, 1, num(env, (double)(uintptr_t)&cx_anchor));
    return r;
}

/* enter(index, a0, a1, a2, a3): the entry's result, or undefined after a crash (see lastCrash). */
static napi_value enter(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value argv[5];
    int64_t a[5] = { 0 };
    jmp_buf jb, *outer = T_jmp;
    napi_env outer_env = T_env;
    int depth = cx_stack_depth();
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    for ( size_t i = 0; i < argc; i++ )
    {
        double d = 0;
        napi_get_value_double(env, argv[i], &d);
        a[i] = (int64_t)d;
    }
    if ( a[0] < 0 || a[0] >= __stop_cx_entries - __start_cx_entries )
    {
        napi_throw_range_error(env, NULL, "no such C entry");
        return NULL;
    }
    T_env = env;
    T_crash.set = 0;
    T_jmp = &jb;
    if ( setjmp(jb) )
    {
        T_jmp = outer;
        T_env = outer_env;
        cx_stack_reset(depth);
        return NULL;
    }
    int64_t r = __start_cx_entries[a[0]].fn(a[1], a[2], a[3], a[4]);
    T_jmp = outer;
    T_env = outer_env;
    return num(env, (double)r);
}

/* lastCrash(): [kind, pcOffset, func, detail, fromJs, ...stack pc offsets] or undefined */
static napi_value last_crash(napi_env env, napi_callback_info info)
{
    napi_value arr, v;
    (void)info;
    if ( !T_crash.set )
        return NULL;
    napi_create_array(env, &arr);
    napi_create_string_utf8(env, T_crash.kind, NAPI_AUTO_LENGTH, &v); napi_set_element(env, arr, 0, v);
    napi_set_element(env, arr, 1, num(env, (double)(intptr_t)(T_crash.pc - (uintptr_t)&cx_anchor)));
    napi_create_string_utf8(env, T_crash.func, NAPI_AUTO_LENGTH, &v); napi_set_element(env, arr, 2, v);
    napi_create_string_utf8(env, T_crash.detail, NAPI_AUTO_LENGTH, &v); napi_set_element(env, arr, 3, v);
    napi_get_boolean(env, T_crash.js, &v); napi_set_element(env, arr, 4, v);
    return arr;
}

/* entries(): the names, in index order */
static napi_value entries(napi_env env, napi_callback_info info)
{
    napi_value arr, v;
    (void)info;
    napi_create_array(env, &arr);
    for ( const struct cx_entry *e = __start_cx_entries; e < __stop_cx_entries; e++ )
    {
        napi_create_string_utf8(env, e->name, NAPI_AUTO_LENGTH, &v);
        napi_set_element(env, arr, e - __start_cx_entries, v);
    }
    return arr;
}

/* setChecks(on): access checks and footprints (a control switches them off to show what they catch) */
static napi_value set_checks(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    bool on = true;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    napi_get_value_bool(env, argv[0], &on);
    cx_checks = on;
    return NULL;
}

NAPI_MODULE_INIT()
{
    napi_property_descriptor d[] = {
        { "attach", NULL, attach, NULL, NULL, NULL, napi_default, NULL },
        { "enter", NULL, enter, NULL, NULL, NULL, napi_default, NULL },
        { "lastCrash", NULL, last_crash, NULL, NULL, NULL, napi_default, NULL },
        { "entries", NULL, entries, NULL, NULL, NULL, napi_default, NULL },
        { "setChecks", NULL, set_checks, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof(d) / sizeof(d[0]), d);
    return exports;
}
