# Benchmarks: built with the rest, never registered as tests (timings are
# reported, not asserted). Run a Release or RelWithDebInfo build:
#   build/bench_primitives            the default path (SSE2 on x86-64, NEON on AArch64)
#   build/bench_primitives_portable   the same with WS_NO_SIMD: the portable code,
#                                     which is what issue #2's targets are about
add_executable(bench_primitives ${CMAKE_CURRENT_LIST_DIR}/bench_primitives.c)
target_link_libraries(bench_primitives PRIVATE ws::ws)
target_compile_options(bench_primitives PRIVATE ${WS_WARNINGS} -Werror)
add_executable(bench_primitives_portable ${CMAKE_CURRENT_LIST_DIR}/bench_primitives.c)
target_link_libraries(bench_primitives_portable PRIVATE ws::ws)
target_compile_definitions(bench_primitives_portable PRIVATE WS_NO_SIMD)
target_compile_options(bench_primitives_portable PRIVATE ${WS_WARNINGS} -Werror)
