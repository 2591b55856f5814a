# Fuzz targets (fuzz/README.md). Here they are built with the normal compiler
# as plain programs that replay inputs (fuzz/replay_main.c), and each gets a
# CTest test that replays its committed seed corpus and its regression
# inputs, so the ordinary suite (plain and ASan builds) re-checks every
# invariant on them. The libFuzzer builds and the timed fuzzing runs are
# tests/stage-fuzz.sh; coverage is tests/coverage.sh.
if(UNIX)
  set(WS_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
  set(WS_FUZZ_TARGETS frame utf8 base64 request response server client)
  foreach(t ${WS_FUZZ_TARGETS})
    add_executable(fuzz_${t}_replay ${WS_FUZZ_DIR}/fuzz_${t}.c ${WS_FUZZ_DIR}/replay_main.c)
    target_compile_options(fuzz_${t}_replay PRIVATE ${WS_WARNINGS} -Werror)
    add_test(NAME fuzz.${t}
             COMMAND fuzz_${t}_replay ${WS_FUZZ_DIR}/corpus/fuzz_${t} ${WS_FUZZ_DIR}/regressions/fuzz_${t})
    set_tests_properties(fuzz.${t} PROPERTIES TIMEOUT 600 LABELS fuzz)
  endforeach()
  # The generator still writes exactly the committed seeds (no drift between
  # gen_corpus.py and fuzz/corpus/).
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    add_test(NAME fuzz.corpus_generated
             COMMAND ${Python3_EXECUTABLE} ${WS_FUZZ_DIR}/gen_corpus.py --check)
  else()
    # No python3: the check cannot run, and says so by failing.
    add_test(NAME fuzz.corpus_generated COMMAND ${CMAKE_COMMAND} -E false)
  endif()
  set_tests_properties(fuzz.corpus_generated PROPERTIES TIMEOUT 120 LABELS fuzz)
endif()
