# Performance benchmarks (the "Performance" work): never tests, nothing timed
# in CTest. Built with the rest; the peers only when their library is found.
#   build/bench_micro                 masking, UTF-8, engine vs wslay, from memory
#   bench/run_e2e.sh                  loopback echo: ws.h vs wslay, lws, Node ws
set(WS_BENCH_DIR ${CMAKE_CURRENT_LIST_DIR})

find_path(WS_WSLAY_INCLUDE wslay/wslay.h)
find_library(WS_WSLAY_LIB wslay)
find_path(WS_LWS_INCLUDE libwebsockets.h)
find_library(WS_LWS_LIB websockets)

# The primitives once per path, so one process compares them all.
function(ws_bench_prim name)
  add_library(bench_prim_${name} OBJECT ${WS_BENCH_DIR}/prim.c)
  target_link_libraries(bench_prim_${name} PRIVATE ws::ws)
  target_compile_definitions(bench_prim_${name} PRIVATE PRIM_NAME=prim_${name})
  target_compile_options(bench_prim_${name} PRIVATE ${WS_WARNINGS} -Werror ${ARGN})
endfunction()
ws_bench_prim(portable -DWS_NO_SIMD)
ws_bench_prim(default)
set(bench_prims $<TARGET_OBJECTS:bench_prim_portable> $<TARGET_OBJECTS:bench_prim_default>)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  ws_bench_prim(ssse3 -mssse3) # the lookup-table validator at 128 bits (x86-64-v2 has SSSE3)
  ws_bench_prim(avx2 -mavx2)
  list(APPEND bench_prims $<TARGET_OBJECTS:bench_prim_ssse3> $<TARGET_OBJECTS:bench_prim_avx2>)
endif()

add_executable(bench_micro ${WS_BENCH_DIR}/bench_micro.c ${bench_prims})
target_link_libraries(bench_micro PRIVATE ws::ws)
target_compile_options(bench_micro PRIVATE ${WS_WARNINGS} -Werror)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  target_compile_definitions(bench_micro PRIVATE BENCH_HAVE_AVX2=1)
endif()
if(WS_WSLAY_INCLUDE AND WS_WSLAY_LIB)
  target_compile_definitions(bench_micro PRIVATE BENCH_HAVE_WSLAY=1)
  target_include_directories(bench_micro PRIVATE ${WS_WSLAY_INCLUDE})
  target_link_libraries(bench_micro PRIVATE ${WS_WSLAY_LIB})
endif()

# Loopback end to end (bench/run_e2e.sh): the load generator and the peers.
add_executable(loadgen ${WS_BENCH_DIR}/loadgen.c)
target_link_libraries(loadgen PRIVATE ws::ws)
target_compile_options(loadgen PRIVATE ${WS_WARNINGS} -Werror)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux") # epoll
  add_executable(bench_peer_floor ${WS_BENCH_DIR}/peers/floor_echo.c)
  target_link_libraries(bench_peer_floor PRIVATE ws::ws)
  target_compile_options(bench_peer_floor PRIVATE ${WS_WARNINGS} -Werror)
endif()
if(WS_WSLAY_INCLUDE AND WS_WSLAY_LIB)
  add_executable(bench_peer_wslay ${WS_BENCH_DIR}/peers/wslay_echo.c)
  target_include_directories(bench_peer_wslay PRIVATE ${WS_WSLAY_INCLUDE})
  target_link_libraries(bench_peer_wslay PRIVATE ws::ws ${WS_WSLAY_LIB})
  target_compile_options(bench_peer_wslay PRIVATE ${WS_WARNINGS} -Werror)
endif()
if(WS_LWS_INCLUDE AND WS_LWS_LIB)
  # lws's headers count as system headers: their warnings are not ours.
  add_executable(bench_peer_lws ${WS_BENCH_DIR}/peers/lws_echo.c)
  target_include_directories(bench_peer_lws SYSTEM PRIVATE ${WS_LWS_INCLUDE})
  target_link_libraries(bench_peer_lws PRIVATE ${WS_LWS_LIB})
  target_compile_options(bench_peer_lws PRIVATE ${WS_WARNINGS} -Werror)
endif()
