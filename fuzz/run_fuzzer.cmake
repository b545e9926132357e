# Runs one fuzzer for SECONDS on a fresh copy of its seed corpus (CTest helper).
# -D FUZZER=<binary> -D SEEDS=<dir> -D WORK=<scratch dir> -D SECONDS=<n>
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus")
file(GLOB seeds "${SEEDS}/*")
if(seeds)
  file(COPY ${seeds} DESTINATION "${WORK}/corpus")
endif()
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 -artifact_prefix=${WORK}/ "${WORK}/corpus"
  WORKING_DIRECTORY "${WORK}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
file(WRITE "${WORK}/fuzz.log" "${out}")
if(NOT rc EQUAL 0)
  message("${out}")
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}); log and crash input in ${WORK}")
endif()
# The last status line (e.g. "#123456 DONE cov: 812 ft: 3170 corp: 95/40Kb ...").
string(REGEX MATCHALL "#[0-9]+[ \t]+DONE[^\n]*" done "${out}")
message("${done}")
