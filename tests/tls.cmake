# wss:// through the mbedTLS adapter (WS_MBEDTLS): tests/tls/. CTest names
# tls.*. Needs libmbedtls-dev, openssl, node with tests/node/node_modules
# (npm ci) and, for tls.browser, /usr/bin/chromium. A missing piece makes
# the tests fail, never skip. examples/tls.cmake uses WS_MBEDTLS_LIBRARIES
# to build echo_server and wscat with TLS.
find_path(WS_MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(WS_MBEDTLS_LIB mbedtls)
find_library(WS_MBEDX509_LIB mbedx509)
find_library(WS_MBEDCRYPTO_LIB mbedcrypto)
find_program(WS_NODE_EXE node)
set(WS_TLS_DIR ${CMAKE_CURRENT_LIST_DIR}/tls)

if(WS_MBEDTLS_INCLUDE_DIR AND WS_MBEDTLS_LIB AND WS_MBEDX509_LIB AND WS_MBEDCRYPTO_LIB)
  set(WS_MBEDTLS_FOUND ON)
  set(WS_MBEDTLS_LIBRARIES ${WS_MBEDTLS_LIB} ${WS_MBEDX509_LIB} ${WS_MBEDCRYPTO_LIB})

  add_executable(tls_peer ${WS_TLS_DIR}/tls_peer.c)
  target_link_libraries(tls_peer PRIVATE ws::ws ${WS_MBEDTLS_LIBRARIES})
  target_include_directories(tls_peer PRIVATE ${WS_MBEDTLS_INCLUDE_DIR})
  target_compile_definitions(tls_peer PRIVATE WS_MBEDTLS)
  target_compile_options(tls_peer PRIVATE ${WS_WARNINGS} -Werror)

  if(NOT WS_NODE_EXE)
    set(WS_NODE_EXE node) # not found: the tests fail when run, saying so
  endif()
  foreach(case c_client node_client_peer verify garbage)
    add_test(NAME tls.${case}
             COMMAND ${WS_NODE_EXE} ${WS_TLS_DIR}/tls_test.js ${case} --peer $<TARGET_FILE:tls_peer>)
    set_tests_properties(tls.${case} PROPERTIES TIMEOUT 900 LABELS tls)
  endforeach()
  # tls.node_client_echo_server and tls.browser (which need echo_server)
  # are added by examples/tls.cmake, included after this file.
  if(NOT WS_SANITIZE) # compiler checks: once is enough
    add_test(NAME tls.compile COMMAND sh ${WS_TLS_DIR}/compile_check.sh ${CMAKE_SOURCE_DIR})
    set_tests_properties(tls.compile PROPERTIES TIMEOUT 900 LABELS tls)
  endif()
else()
  set(WS_MBEDTLS_FOUND OFF)
  add_test(NAME tls.mbedtls_found
           COMMAND sh -c "echo 'FAIL: mbedTLS not found: apt-get install libmbedtls-dev'; exit 1")
endif()
