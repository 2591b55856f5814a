# Tests of the chat demo (examples/chat) in a real browser: Debian's
# Chromium (/usr/bin/chromium), headless, driven by playwright-core from
# tests/node (npm ci there), plus Redis cases with a redis-server each test
# starts itself. chat.http and chat.backpressure check the demo's HTTP side
# and slow-reader handling over raw sockets, without a browser.
# A missing tool (node, chromium, redis-server, node_modules) fails a test.
# Screenshots go to tests/artifacts/browser/<build dir name>/.
find_program(WS_BROWSER_NODE node)
get_filename_component(WS_BROWSER_BUILD_NAME ${CMAKE_BINARY_DIR} NAME)
set(WS_BROWSER_ARTIFACTS ${CMAKE_SOURCE_DIR}/tests/artifacts/browser/${WS_BROWSER_BUILD_NAME})

foreach(ws_browser_case load chat large subprotocol server_close reconnect invalid_utf8
        redis_publish redis_two_servers redis_outage http backpressure)
  if(ws_browser_case STREQUAL "http" OR ws_browser_case STREQUAL "backpressure")
    set(ws_browser_name chat.${ws_browser_case})
  else()
    set(ws_browser_name browser.${ws_browser_case})
  endif()
  if(WS_BROWSER_NODE)
    add_test(NAME ${ws_browser_name}
             COMMAND ${WS_BROWSER_NODE} ${CMAKE_CURRENT_LIST_DIR}/browser/run.mjs
                     --chat $<TARGET_FILE:chat> --case ${ws_browser_case}
                     --artifacts ${WS_BROWSER_ARTIFACTS})
  else()
    add_test(NAME ${ws_browser_name}
             COMMAND sh -c "echo 'node not found (apt-get install nodejs)'; echo '0 passed, 1 failed'; exit 1")
  endif()
  # One Chromium at a time: the machine has two cores and other tests run
  # alongside (ctest -j2).
  set_tests_properties(${ws_browser_name} PROPERTIES TIMEOUT 300 LABELS browser
                       RESOURCE_LOCK ws_chromium)
endforeach()
