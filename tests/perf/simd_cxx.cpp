// The SIMD paths compile as C++ too (built with -mssse3 and -mavx2 by
// tests/perf.cmake; nothing to run).
#define WS_IMPLEMENTATION
#include "ws.h"
int ws_perf_simd_cxx_anchor();
int ws_perf_simd_cxx_anchor() { return ws_utf8_validate("ok", 2, nullptr); }
