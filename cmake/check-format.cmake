# ctest's `format`: every C++ source and header of the project is as clang-format
# 14 writes it with .clang-format (other versions format differently: skipped).
# cmake -DCLANG_FORMAT=... -DSOURCE_DIR=... -P check-format.cmake
execute_process(COMMAND ${CLANG_FORMAT} --version OUTPUT_VARIABLE version)
if(NOT version MATCHES "version 14\\.")
  message("format: skipped, ${CLANG_FORMAT} is not clang-format 14 (${version})")
  return()
endif()
set(files)
foreach(dir app core ui tests fuzz)
  file(GLOB_RECURSE found ${SOURCE_DIR}/${dir}/*.cpp ${SOURCE_DIR}/${dir}/*.h)
  list(APPEND files ${found})
endforeach()
list(FILTER files EXCLUDE REGEX "/fuzz/corpus/")
list(LENGTH files count)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror --style=file ${files}
                WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "format: these places differ from clang-format's (run clang-format -i on the files):\n${err}")
endif()
message("format: ${count} files as clang-format writes them")
