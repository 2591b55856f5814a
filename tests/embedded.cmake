# Embedded profile (examples/embedded/, README there): ws.h without sockets,
# static memory only, on Cortex-M.
#
#   embedded.native         the self-test (client and server engines over an
#                           in-memory pipe with would-block), host compiler
#   embedded.native_small   the same with WS_SMALL and WS_NO_ALLOC
#   embedded.symbols        what ws.h's implementation needs from outside
#                           (nm -u), host and Cortex-M0+/M4, per profile
#   embedded.cross_compile  -Werror strict cross-compilation for Cortex-M0+
#                           and Cortex-M4 in every profile
#   embedded.size           the size table and where the bytes go (never
#                           fails on size; see ctest -V or the log)
#   embedded.qemu           the self-test bare-metal on an emulated Cortex-M4
#                           (qemu-system-arm -M mps2-an386 -semihosting);
#                           embedded.qemu_small with WS_SMALL + WS_NO_ALLOC
#
# The cross and QEMU tests need gcc-arm-none-eabi, libnewlib-arm-none-eabi
# and qemu-system-arm (tests/apt-packages.txt); without them they fail.
set(WS_EMBEDDED_DIR ${CMAKE_CURRENT_LIST_DIR}/../examples/embedded)
set(WS_EMBEDDED_OUT ${CMAKE_BINARY_DIR}/embedded)

# The library in its own freestanding unit, as firmware builds it.
add_library(ws_embedded_impl OBJECT ${WS_EMBEDDED_DIR}/ws_impl.c)
target_include_directories(ws_embedded_impl PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_options(ws_embedded_impl PRIVATE ${WS_WARNINGS} -Werror -ffreestanding)

add_executable(embedded_selftest ${WS_EMBEDDED_DIR}/main.c $<TARGET_OBJECTS:ws_embedded_impl>)
target_include_directories(embedded_selftest PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_options(embedded_selftest PRIVATE ${WS_WARNINGS} -Werror)

add_test(NAME embedded.native COMMAND embedded_selftest)
set_tests_properties(embedded.native PROPERTIES TIMEOUT 600 LABELS embedded)

# The same self-test over the smallest profile: WS_SMALL (its own loops and
# computed tables) and WS_NO_ALLOC (fixed buffers only).
add_library(ws_embedded_impl_small OBJECT ${WS_EMBEDDED_DIR}/ws_impl.c)
target_include_directories(ws_embedded_impl_small PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_options(ws_embedded_impl_small PRIVATE ${WS_WARNINGS} -Werror -ffreestanding)
target_compile_definitions(ws_embedded_impl_small PRIVATE WS_SMALL WS_NO_ALLOC)
add_executable(embedded_selftest_small ${WS_EMBEDDED_DIR}/main.c $<TARGET_OBJECTS:ws_embedded_impl_small>)
target_include_directories(embedded_selftest_small PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_options(embedded_selftest_small PRIVATE ${WS_WARNINGS} -Werror)
add_test(NAME embedded.native_small COMMAND embedded_selftest_small)
set_tests_properties(embedded.native_small PROPERTIES TIMEOUT 600 LABELS embedded)

# The rest compile with their own flags, so the sanitizer build (WS_SANITIZE)
# leaves them out instead of repeating them.
if(WS_SANITIZE)
  return()
endif()
add_test(NAME embedded.symbols
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/embedded-symbols.sh ${CMAKE_C_COMPILER}
                 ${WS_EMBEDDED_OUT}/symbols)
add_test(NAME embedded.cross_compile
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/embedded-size.sh --compile-only ${WS_EMBEDDED_OUT}/cross)
add_test(NAME embedded.size
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/embedded-size.sh --size-only ${WS_EMBEDDED_OUT}/size)
add_test(NAME embedded.qemu
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/embedded-qemu.sh ${WS_EMBEDDED_OUT}/qemu)
add_test(NAME embedded.qemu_small
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/embedded-qemu.sh ${WS_EMBEDDED_OUT}/qemu-small)
set_tests_properties(embedded.qemu_small PROPERTIES ENVIRONMENT "EMBEDDED_WS_FLAGS=-DWS_SMALL -DWS_NO_ALLOC")
set_tests_properties(embedded.symbols embedded.cross_compile embedded.size embedded.qemu embedded.qemu_small
                     PROPERTIES TIMEOUT 600 LABELS embedded)
