# docs.readme: the README's C examples (the Quick start client, the server
# in a few lines, the Threads hand-over) are compiled with the build's C
# compiler and run against each other over loopback (tests/docs/readme.sh).
# They do not use the build's own flags, so the sanitizer build leaves the
# test out.
if(UNIX AND NOT WS_SANITIZE)
  add_test(NAME docs.readme
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/docs/readme.sh ${CMAKE_C_COMPILER} ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/docs-readme)
  set_tests_properties(docs.readme PROPERTIES TIMEOUT 120 LABELS docs)
endif()
