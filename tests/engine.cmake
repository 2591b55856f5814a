# Engine tests: table-driven, in memory, no sockets (tests/engine/).
# Every input is delivered whole, byte by byte, at random split points with
# would-block injected on recv and send, and through ws_feed; each program
# prints "N passed, N failed" and exits non-zero on a failure.
set(WS_ENGINE_PROGRAMS frames server_handshake client_handshake text limits close ping api soak)
foreach(prog ${WS_ENGINE_PROGRAMS})
  add_executable(engine_${prog} ${CMAKE_CURRENT_LIST_DIR}/engine/test_${prog}.c
    ${CMAKE_CURRENT_LIST_DIR}/engine/harness.h)
  target_link_libraries(engine_${prog} PRIVATE ws)
  target_compile_options(engine_${prog} PRIVATE ${WS_WARNINGS} -Werror)
endforeach()

add_test(NAME engine.server_frames COMMAND engine_frames server)
add_test(NAME engine.client_frames COMMAND engine_frames client)
add_test(NAME engine.server_handshake COMMAND engine_server_handshake)
add_test(NAME engine.client_handshake COMMAND engine_client_handshake)
add_test(NAME engine.text COMMAND engine_text)
add_test(NAME engine.limits COMMAND engine_limits)
add_test(NAME engine.close COMMAND engine_close)
add_test(NAME engine.ping COMMAND engine_ping)
add_test(NAME engine.api COMMAND engine_api)
# 1000 messages each way per configuration, at most 20 s of CPU each.
add_test(NAME engine.soak COMMAND engine_soak 1000 20)

set_tests_properties(engine.server_frames engine.client_frames engine.server_handshake
  engine.client_handshake engine.text engine.limits engine.close engine.ping engine.api
  engine.soak PROPERTIES TIMEOUT 600)

# The same tables over WS_SMALL's code (its own memcpy & co., byte-wise
# masking, the computed UTF-8 step, no batching, no reason texts): every
# behaviour but the explanations must be identical.
set(WS_ENGINE_SMALL frames server_handshake client_handshake text limits close ping api)
foreach(prog ${WS_ENGINE_SMALL})
  add_executable(engine_small_${prog} ${CMAKE_CURRENT_LIST_DIR}/engine/test_${prog}.c
    ${CMAKE_CURRENT_LIST_DIR}/engine/harness.h)
  target_link_libraries(engine_small_${prog} PRIVATE ws)
  target_compile_options(engine_small_${prog} PRIVATE ${WS_WARNINGS} -Werror)
  target_compile_definitions(engine_small_${prog} PRIVATE WS_SMALL)
  add_test(NAME engine.small.${prog} COMMAND engine_small_${prog})
  set_tests_properties(engine.small.${prog} PROPERTIES TIMEOUT 600)
endforeach()
