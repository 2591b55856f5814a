# Example programs: echo_server, wscat, autobahn_client. They are built with
# the strict warnings and -Werror like every program of ours; demo.sh builds
# echo_server and runs it.
set(WS_EXAMPLES_DIR ${CMAKE_CURRENT_LIST_DIR})

function(ws_example target source)
  add_executable(${target} ${WS_EXAMPLES_DIR}/${source})
  target_link_libraries(${target} PRIVATE ws::ws)
  target_compile_options(${target} PRIVATE ${WS_WARNINGS} -Werror)
endfunction()

ws_example(echo_server echo_server.c)
ws_example(wscat wscat.c)
ws_example(autobahn_client autobahn_client.c)
