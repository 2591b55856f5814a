# Compile checks: ws.h with WS_IMPLEMENTATION as C99, C11, C++11 and C++17
# under every compiler found (gcc, g++, clang, clang++), with the strict
# warnings as errors, in each configuration variant, linking an
# implementation unit with a declarations-only unit; plus a freestanding
# build of the core. The work is in tests/compile_check.sh.
#
# These do not depend on the build's own flags, so the sanitizer build
# (WS_SANITIZE) leaves them out instead of repeating them.
if(NOT WS_SANITIZE)
  set(WS_COMPILE_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/compile_check.sh)
  foreach(pair "gcc;c99" "gcc;c11" "gcc;freestanding" "g++;c++11" "g++;c++17"
               "clang;c99" "clang;c11" "clang;freestanding" "clang++;c++11" "clang++;c++17")
    list(GET pair 0 compiler)
    list(GET pair 1 std)
    string(MAKE_C_IDENTIFIER "WS_PROGRAM_${compiler}" var)
    find_program(${var} ${compiler})
    if(${var})
      add_test(NAME compile.${compiler}.${std}
               COMMAND sh ${WS_COMPILE_SCRIPT} ${${var}} ${std} ${CMAKE_SOURCE_DIR}
                       ${CMAKE_BINARY_DIR}/compile-check/${compiler}-${std})
      set_tests_properties(compile.${compiler}.${std} PROPERTIES TIMEOUT 300 LABELS compile)
    endif()
  endforeach()
endif()
