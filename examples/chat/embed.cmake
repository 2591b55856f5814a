# Turns a file into a C array, so a program carries its assets and runs from
# any working directory. Run as a script:
#   cmake -DIN=page.html -DOUT=page.c -DNAME=chat_page -P embed.cmake
# It defines `const unsigned char NAME[]` and `const size_t NAME_len`.
if(NOT IN OR NOT OUT OR NOT NAME)
  message(FATAL_ERROR "embed.cmake: IN, OUT and NAME are required")
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
# Two hex digits per byte become "0xNN,"; a newline every 16 bytes keeps
# the generated file readable.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
get_filename_component(src_name "${IN}" NAME)
file(WRITE "${OUT}.tmp"
  "/* Generated from ${src_name} by embed.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "extern const unsigned char ${NAME}[];\n"
  "extern const size_t ${NAME}_len;\n"
  "const unsigned char ${NAME}[] = {\n${body}0x00};\n"
  "const size_t ${NAME}_len = ${size};\n")
# Only touch the output when it changed, so an unchanged page rebuilds nothing.
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
