/*
 * A control for the build: a call to a function nobody defines. A shared object links with it (the dynamic linker
 * would resolve it at the first call, and kill the process there); the build must refuse it naming the symbol.
 */
#include "cx.h"

int cx_control_never_defined(int x);

CX_ENTRY(t_calls_undefined) { return cx_control_never_defined(a0); }
