# wss:// for the examples: echo_server --tls CERT KEY and wscat --ca /
# --insecure are compiled with WS_MBEDTLS and linked with mbedTLS when
# tests/tls.cmake (included before this file) found it. Also registers the
# tests that need them: tls.node_client_echo_server, tls.wscat, tls.browser.
if(NOT DEFINED WS_MBEDTLS_FOUND)
  return() # only the examples are configured: no TLS
endif()
if(WS_MBEDTLS_FOUND)
  foreach(target echo_server wscat)
    if(TARGET ${target})
      target_compile_definitions(${target} PRIVATE WS_MBEDTLS)
      target_include_directories(${target} PRIVATE ${WS_MBEDTLS_INCLUDE_DIR})
      target_link_libraries(${target} PRIVATE ${WS_MBEDTLS_LIBRARIES})
    endif()
  endforeach()
  if(TARGET echo_server AND TARGET tls_peer)
    add_test(NAME tls.node_client_echo_server
             COMMAND ${WS_NODE_EXE} ${WS_TLS_DIR}/tls_test.js node_client_echo_server
                     --peer $<TARGET_FILE:tls_peer> --echo $<TARGET_FILE:echo_server>)
    set_tests_properties(tls.node_client_echo_server PROPERTIES TIMEOUT 900 LABELS tls)
  endif()
  if(TARGET echo_server AND TARGET wscat AND TARGET tls_peer)
    add_test(NAME tls.wscat
             COMMAND ${WS_NODE_EXE} ${WS_TLS_DIR}/tls_test.js wscat --peer $<TARGET_FILE:tls_peer>
                     --echo $<TARGET_FILE:echo_server> --wscat $<TARGET_FILE:wscat>)
    set_tests_properties(tls.wscat PROPERTIES TIMEOUT 900 LABELS tls)
  endif()
  if(TARGET tls_peer)
    if(TARGET echo_server)
      set(WS_TLS_BROWSER_SERVER $<TARGET_FILE:echo_server>)
    else()
      set(WS_TLS_BROWSER_SERVER none)
    endif()
    add_test(NAME tls.browser
             COMMAND ${WS_NODE_EXE} ${WS_TLS_DIR}/tls_test.js browser
                     --peer $<TARGET_FILE:tls_peer> --echo ${WS_TLS_BROWSER_SERVER})
    set_tests_properties(tls.browser PROPERTIES TIMEOUT 900 LABELS tls)
  endif()
endif()
