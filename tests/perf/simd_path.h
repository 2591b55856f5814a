/* The name of the SIMD path the including unit's ws.h implementation was
 * compiled with (include after ws.h with WS_IMPLEMENTATION). Shared by the
 * SIMD tests and the micro benchmark so their labels cannot drift apart. */
#ifndef WS_TESTS_SIMD_PATH_H
#define WS_TESTS_SIMD_PATH_H
#if defined(WS__SIMD) && WS__SIMD == 32
#define PATH "avx2"
#elif defined(WS__SIMD) && (defined(__aarch64__) || defined(_M_ARM64))
#define PATH "neon"
#elif defined(WS__SIMD) && defined(WS__V_LOOKUP)
#define PATH "ssse3"
#elif defined(WS__SIMD)
#define PATH "sse2"
#else
#define PATH "portable"
#endif
#endif
