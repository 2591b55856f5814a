# The browser demo: examples/chat/chat.c serves examples/chat/index.html
# (embedded at build time) and a WebSocket chat room on one port. With
# libhiredis found, `chat --redis HOST:PORT` joins a room shared through
# Redis pub/sub; without it the program builds and runs without that mode.
set(CHAT_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR}/chat)
set(CHAT_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/examples/chat)

add_custom_command(
  OUTPUT ${CHAT_GEN_DIR}/chat_page.c
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CHAT_GEN_DIR}
  COMMAND ${CMAKE_COMMAND} -DIN=${CHAT_SOURCE_DIR}/index.html -DOUT=${CHAT_GEN_DIR}/chat_page.c
          -DNAME=chat_page -P ${CHAT_SOURCE_DIR}/embed.cmake
  DEPENDS ${CHAT_SOURCE_DIR}/index.html ${CHAT_SOURCE_DIR}/embed.cmake
  COMMENT "Embedding examples/chat/index.html"
  VERBATIM)

add_executable(chat ${CHAT_SOURCE_DIR}/chat.c ${CHAT_GEN_DIR}/chat_page.c)
target_link_libraries(chat PRIVATE ws::ws)
target_compile_options(chat PRIVATE ${WS_WARNINGS} -Werror)

find_path(CHAT_HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
find_library(CHAT_HIREDIS_LIBRARY hiredis)
if(CHAT_HIREDIS_INCLUDE_DIR AND CHAT_HIREDIS_LIBRARY)
  target_compile_definitions(chat PRIVATE CHAT_HAVE_REDIS=1)
  target_include_directories(chat SYSTEM PRIVATE ${CHAT_HIREDIS_INCLUDE_DIR})
  target_link_libraries(chat PRIVATE ${CHAT_HIREDIS_LIBRARY})
  message(STATUS "chat: Redis mode enabled (${CHAT_HIREDIS_LIBRARY})")
else()
  message(STATUS "chat: libhiredis not found, building without Redis mode")
endif()
