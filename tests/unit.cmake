# Unit tests: one program per primitive or layer, each printing
# "N passed, N failed" last and exiting non-zero on failure. CTest names are
# grouped by layer (primitives.*, codec.*), so `ctest -R '^codec\.'` runs one.
set(WS_UNIT_DIR ${CMAKE_CURRENT_LIST_DIR}/unit)

# ws_unit_program(target source [extra compile options...])
function(ws_unit_program target source)
  add_executable(${target} ${WS_UNIT_DIR}/${source})
  target_link_libraries(${target} PRIVATE ws::ws)
  target_compile_options(${target} PRIVATE ${WS_WARNINGS} -Werror ${ARGN})
endfunction()

function(ws_unit_test name target)
  add_test(NAME ${name} COMMAND ${target} ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600 LABELS unit)
endfunction()

ws_unit_program(unit_errors test_errors.c)
ws_unit_program(unit_sha1 test_sha1.c)
ws_unit_program(unit_base64 test_base64.c)
ws_unit_program(unit_accept test_accept.c)
ws_unit_program(unit_mask test_mask.c)
ws_unit_program(unit_utf8 test_utf8.c)
ws_unit_program(unit_frame test_frame.c)
ws_unit_program(unit_guard test_guard.c)

ws_unit_test(primitives.errors unit_errors)
ws_unit_test(primitives.sha1 unit_sha1)
ws_unit_test(primitives.base64 unit_base64)
ws_unit_test(primitives.accept unit_accept)
ws_unit_test(primitives.mask unit_mask)
ws_unit_test(primitives.guard unit_guard other)
ws_unit_test(codec.frame unit_frame)
ws_unit_test(codec.frame_guard unit_guard frame)
ws_unit_test(primitives.utf8_guard unit_guard utf8)
# Under the sanitizers the 84 million 4-byte inputs would take minutes; the
# plain build enumerates them, the sanitizer build runs everything else.
if(WS_SANITIZE)
  ws_unit_test(primitives.utf8 unit_utf8 --quick)
else()
  ws_unit_test(primitives.utf8 unit_utf8)
endif()

# The same masking, UTF-8 and guard-page tests over the other code paths:
# the portable one (WS_NO_SIMD), and on x86-64 the SSSE3 and AVX2 ones when
# this machine can run them (the default build only reaches SSE2). The
# guard-page runs matter most here: vector loads are where over-reads hide.
set(WS_UNIT_PATHS "portable;-DWS_NO_SIMD")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND EXISTS /proc/cpuinfo)
  file(READ /proc/cpuinfo WS_CPUINFO)
  if(WS_CPUINFO MATCHES " ssse3")
    list(APPEND WS_UNIT_PATHS "ssse3;-mssse3")
  endif()
  if(WS_CPUINFO MATCHES " avx2")
    list(APPEND WS_UNIT_PATHS "avx2;-mavx2")
  endif()
endif()
list(LENGTH WS_UNIT_PATHS n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET WS_UNIT_PATHS ${i} path)
  list(GET WS_UNIT_PATHS ${j} flag)
  ws_unit_program(unit_mask_${path} test_mask.c ${flag})
  ws_unit_program(unit_utf8_${path} test_utf8.c ${flag})
  ws_unit_program(unit_guard_${path} test_guard.c ${flag})
  ws_unit_test(primitives.mask.${path} unit_mask_${path})
  # --quick: the 4-byte enumeration uses inputs too short for vector code.
  ws_unit_test(primitives.utf8.${path} unit_utf8_${path} --quick)
  ws_unit_test(primitives.guard.${path} unit_guard_${path} all)
endforeach()

# WS_SMALL's own code paths (byte-wise masking, the computed UTF-8 step, its
# own memcpy & co.) against the same tests, as a microcontroller builds them.
ws_unit_program(unit_mask_small test_mask.c -DWS_SMALL -DWS_NO_SIMD)
ws_unit_program(unit_utf8_small test_utf8.c -DWS_SMALL -DWS_NO_SIMD)
ws_unit_program(unit_guard_small test_guard.c -DWS_SMALL -DWS_NO_SIMD)
ws_unit_program(unit_sha1_small test_sha1.c -DWS_SMALL -DWS_NO_SIMD)
ws_unit_test(primitives.mask.small unit_mask_small)
if(WS_SANITIZE)
  ws_unit_test(primitives.utf8.small unit_utf8_small --quick)
else()
  ws_unit_test(primitives.utf8.small unit_utf8_small)
endif()
ws_unit_test(primitives.guard.small unit_guard_small all)
ws_unit_test(primitives.sha1.small unit_sha1_small)
