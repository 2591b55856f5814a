# Adapter and engine-corner tests (tests/adapter/, tests/engine/test_corners.c):
# the POSIX socket adapter against loopback peers, and engine paths the
# table-driven engine tests do not reach. Each prints "N passed, N failed".
if(UNIX)
  add_executable(adapter_posix ${CMAKE_CURRENT_LIST_DIR}/adapter/test_posix.c)
  target_link_libraries(adapter_posix PRIVATE ws)
  target_compile_options(adapter_posix PRIVATE ${WS_WARNINGS} -Werror)
  add_test(NAME adapter.posix COMMAND adapter_posix)
  set_tests_properties(adapter.posix PROPERTIES TIMEOUT 300)
endif()

# System call failures injected into the POSIX adapter (tests/adapter/faults.h):
# the linker sends ws.h's calls to the test's __wrap_* functions (GNU ld and
# lld; getrandom is glibc's), which also works under the sanitizers.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  add_executable(adapter_faults ${CMAKE_CURRENT_LIST_DIR}/adapter/test_faults.c)
  target_link_libraries(adapter_faults PRIVATE ws)
  # _FORTIFY_SOURCE would turn read() into __read_chk, out of the wrapper's reach
  target_compile_options(adapter_faults PRIVATE ${WS_WARNINGS} -Werror -U_FORTIFY_SOURCE)
  target_link_options(adapter_faults PRIVATE
    "LINKER:--wrap=read,--wrap=send,--wrap=sendmsg,--wrap=poll,--wrap=accept"
    "LINKER:--wrap=socket,--wrap=listen,--wrap=fcntl,--wrap=open,--wrap=getrandom")
  add_test(NAME adapter.faults COMMAND adapter_faults)
  set_tests_properties(adapter.faults PROPERTIES TIMEOUT 300)
endif()

add_executable(engine_corners ${CMAKE_CURRENT_LIST_DIR}/engine/test_corners.c)
target_link_libraries(engine_corners PRIVATE ws)
target_compile_options(engine_corners PRIVATE ${WS_WARNINGS} -Werror)
add_test(NAME engine.corners COMMAND engine_corners)
set_tests_properties(engine.corners PROPERTIES TIMEOUT 300)

# The mbedTLS adapter in-process (tests/adapter/test_tls.c): both ends of each
# session in one program; certificates from openssl at run time; failures
# injected like adapter.faults, also into three mbedTLS calls. mbedTLS is
# looked up as tests/tls.cmake does (same cache variables; that file is
# included after this one); without it this test fails, saying so.
find_path(WS_MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(WS_MBEDTLS_LIB mbedtls)
find_library(WS_MBEDX509_LIB mbedx509)
find_library(WS_MBEDCRYPTO_LIB mbedcrypto)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND WS_MBEDTLS_INCLUDE_DIR AND WS_MBEDTLS_LIB AND WS_MBEDX509_LIB
   AND WS_MBEDCRYPTO_LIB)
  add_executable(adapter_tls ${CMAKE_CURRENT_LIST_DIR}/adapter/test_tls.c)
  target_link_libraries(adapter_tls PRIVATE ws ${WS_MBEDTLS_LIB} ${WS_MBEDX509_LIB} ${WS_MBEDCRYPTO_LIB})
  target_include_directories(adapter_tls PRIVATE ${WS_MBEDTLS_INCLUDE_DIR})
  target_compile_options(adapter_tls PRIVATE ${WS_WARNINGS} -Werror -U_FORTIFY_SOURCE)
  target_link_options(adapter_tls PRIVATE
    "LINKER:--wrap=read,--wrap=send,--wrap=poll"
    "LINKER:--wrap=mbedtls_ssl_setup,--wrap=mbedtls_ssl_set_hostname,--wrap=mbedtls_x509_crt_parse_file")
  add_test(NAME adapter.tls COMMAND adapter_tls)
  set_tests_properties(adapter.tls PROPERTIES TIMEOUT 300)
elseif(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  add_test(NAME adapter.tls
           COMMAND sh -c "echo 'FAIL: mbedTLS not found: apt-get install libmbedtls-dev'; exit 1")
endif()
