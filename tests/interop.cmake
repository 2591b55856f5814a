# Interop tests against real peers: Node's ws (tests/node/node_modules, pinned
# by the lockfile; `npm ci` in tests/node installs it). Each test starts its
# own servers on free 127.0.0.1 ports and stops them by PID. A missing node
# or ws package makes the test fail, not pass.
set(WS_INTEROP_DIR ${CMAKE_CURRENT_LIST_DIR}/interop)

add_executable(interop_client ${WS_INTEROP_DIR}/interop_client.c)
target_link_libraries(interop_client PRIVATE ws::ws)
target_compile_options(interop_client PRIVATE ${WS_WARNINGS} -Werror)

# The echo server's poll() loop (used where there is no epoll), built on
# Linux too so that it is tested.
add_executable(echo_server_poll ${CMAKE_CURRENT_LIST_DIR}/../examples/echo_server.c)
target_link_libraries(echo_server_poll PRIVATE ws::ws)
target_compile_definitions(echo_server_poll PRIVATE ECHO_USE_POLL=1)
target_compile_options(echo_server_poll PRIVATE ${WS_WARNINGS} -Werror)

function(ws_interop_test name script)
  add_test(NAME ${name} COMMAND bash ${WS_INTEROP_DIR}/${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600 LABELS interop)
endfunction()

ws_interop_test(interop.echo_server_node_client echo_server_node.sh $<TARGET_FILE:echo_server>)
ws_interop_test(interop.echo_server_poll_node_client echo_server_node.sh $<TARGET_FILE:echo_server_poll>)
ws_interop_test(interop.client_node_server client_node_server.sh $<TARGET_FILE:interop_client> session)
ws_interop_test(interop.handshake_failures client_node_server.sh $<TARGET_FILE:interop_client> handshake)
ws_interop_test(interop.wscat wscat.sh $<TARGET_FILE:wscat> $<TARGET_FILE:echo_server>)
ws_interop_test(interop.autobahn_client autobahn.sh $<TARGET_FILE:autobahn_client>)
ws_interop_test(interop.load_1000 load.sh $<TARGET_FILE:echo_server> 1000)
