# The library as a CMake consumer uses it: cmake --install, then
# find_package(ws) and add_subdirectory, each linking ws::ws.
if(NOT WS_SANITIZE)
  add_test(NAME build.cmake_consumer
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/build/cmake_consumer.sh ${CMAKE_COMMAND}
                   ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(build.cmake_consumer PROPERTIES TIMEOUT 300 LABELS build)
endif()
