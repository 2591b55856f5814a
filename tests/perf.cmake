# SIMD primitives (ws.h PRIMITIVES section): every vector path of masking and
# UTF-8 validation is checked against the portable code (simd_ref.c, built
# with WS_NO_SIMD) on the same inputs. CTest names: simd.*. Nothing here is
# timed; speed lives in bench/.
set(WS_PERF_DIR ${CMAKE_CURRENT_LIST_DIR}/perf)

add_library(perf_simd_ref STATIC ${WS_PERF_DIR}/simd_ref.c)
target_link_libraries(perf_simd_ref PUBLIC ws::ws)
target_compile_options(perf_simd_ref PRIVATE ${WS_WARNINGS} -Werror)

if(WS_SANITIZE)
  set(WS_PERF_QUICK --quick)
else()
  set(WS_PERF_QUICK "")
endif()

# name: the path the build must take; flags: what selects it.
function(ws_perf_simd_test name)
  add_executable(perf_simd_${name} ${WS_PERF_DIR}/test_simd.c)
  target_link_libraries(perf_simd_${name} PRIVATE perf_simd_ref)
  target_compile_options(perf_simd_${name} PRIVATE ${WS_WARNINGS} -Werror ${ARGN})
  add_test(NAME simd.${name} COMMAND perf_simd_${name} ${name} ${WS_PERF_QUICK})
  set_tests_properties(simd.${name} PROPERTIES TIMEOUT 900 LABELS perf SKIP_RETURN_CODE 77)
endfunction()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
  ws_perf_simd_test(sse2)
  ws_perf_simd_test(ssse3 -mssse3)
  ws_perf_simd_test(avx2 -mavx2)
  foreach(isa ssse3 avx2)
    add_library(perf_simd_cxx_${isa} OBJECT ${WS_PERF_DIR}/simd_cxx.cpp)
    target_link_libraries(perf_simd_cxx_${isa} PRIVATE ws::ws)
    target_compile_options(perf_simd_cxx_${isa} PRIVATE ${WS_WARNINGS} -Werror -m${isa})
  endforeach()
  # WS_NO_SIMD wins over what the compiler offers.
  add_executable(perf_simd_portable ${WS_PERF_DIR}/test_simd.c)
  target_link_libraries(perf_simd_portable PRIVATE perf_simd_ref)
  target_compile_options(perf_simd_portable PRIVATE ${WS_WARNINGS} -Werror -mavx2 -DWS_NO_SIMD)
  add_test(NAME simd.no_simd COMMAND perf_simd_portable portable --quick)
  set_tests_properties(simd.no_simd PROPERTIES TIMEOUT 900 LABELS perf SKIP_RETURN_CODE 77)

  # NEON: cross-compiled for AArch64 and run under qemu (both from Debian:
  # gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user).
  find_program(WS_AARCH64_CC aarch64-linux-gnu-gcc)
  find_program(WS_QEMU_AARCH64 qemu-aarch64)
  if(WS_AARCH64_CC AND WS_QEMU_AARCH64)
    set(neon_bin ${CMAKE_CURRENT_BINARY_DIR}/perf_simd_neon)
    add_custom_command(OUTPUT ${neon_bin}
      COMMAND ${WS_AARCH64_CC} -std=c99 ${WS_WARNINGS} -Werror -O2 -static -I${CMAKE_SOURCE_DIR}
              ${WS_PERF_DIR}/test_simd.c ${WS_PERF_DIR}/simd_ref.c -o ${neon_bin}
      DEPENDS ${WS_PERF_DIR}/test_simd.c ${WS_PERF_DIR}/simd_ref.c ${WS_PERF_DIR}/simd_ref.h ${CMAKE_SOURCE_DIR}/ws.h
      COMMENT "Cross-compiling the NEON SIMD test for AArch64"
      VERBATIM)
    add_custom_target(perf_simd_neon_build ALL DEPENDS ${neon_bin})
    add_test(NAME simd.neon COMMAND ${WS_QEMU_AARCH64} ${neon_bin} neon --quick)
  else()
    add_test(NAME simd.neon COMMAND sh -c
      "echo 'simd.neon needs aarch64-linux-gnu-gcc and qemu-aarch64 (see tests/apt-packages.txt)'; exit 1")
  endif()
  set_tests_properties(simd.neon PROPERTIES TIMEOUT 900 LABELS perf)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  ws_perf_simd_test(neon)
endif()
