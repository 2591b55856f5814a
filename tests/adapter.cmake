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

add_executable(engine_corners ${CMAKE_CURRENT_LIST_DIR}/engine/test_corners.c)
target_link_libraries(engine_corners PRIVATE ws)
target_compile_options(engine_corners PRIVATE ${WS_WARNINGS} -Werror)
add_test(NAME engine.corners COMMAND engine_corners)
set_tests_properties(engine.corners PROPERTIES TIMEOUT 300)
