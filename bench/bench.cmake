# Benchmarks: built with the rest, never registered as tests (timings are
# reported, not asserted). Run a Release or RelWithDebInfo build:
#   build/bench_primitives
add_executable(bench_primitives ${CMAKE_CURRENT_LIST_DIR}/bench_primitives.c)
target_link_libraries(bench_primitives PRIVATE ws::ws)
target_compile_options(bench_primitives PRIVATE ${WS_WARNINGS} -Werror)
