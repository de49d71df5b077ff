# Run at build time (not configure time) so the revision in results is never stale.
#
# Writes OUT (gen/git_revision.h) with
#   SOCKBENCH_GIT_REVISION     git describe --always --dirty --abbrev=12 ("unknown" without git)
#   SOCKBENCH_GIT_DIRTY        1 when the tracked files differ from HEAD (the revision ends in
#                              -dirty), or when there is no revision to compare with; else 0
#   SOCKBENCH_GIT_DIFF_SHA256  when dirty: sha256 of the tracked files' difference from HEAD,
#                              as `git diff --no-ext-diff --no-color --binary HEAD | sha256sum`
#                              prints it (untracked files are not in it); "" when clean
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
                OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR rev STREQUAL "")
  set(rev "unknown")
endif()
set(dirty 0)
set(diff_sha "")
if(rev STREQUAL "unknown")
  # No checkout to compare with: nothing says the tree was clean.
  set(dirty 1)
  set(diff_sha "unavailable: no git checkout")
elseif(rev MATCHES "-dirty$")
  set(dirty 1)
  # The diff goes to a file: file(SHA256) hashes its bytes as they are.
  set(diff_file "${OUT}.diff")
  execute_process(COMMAND git -C "${SRC}" diff --no-ext-diff --no-color --binary HEAD
                  OUTPUT_FILE "${diff_file}" ERROR_QUIET RESULT_VARIABLE drc)
  if(drc EQUAL 0)
    file(SHA256 "${diff_file}" diff_sha)
  else()
    set(diff_sha "unavailable: git diff HEAD failed")
  endif()
  file(REMOVE "${diff_file}")
endif()
string(CONCAT content "#pragma once\n#define SOCKBENCH_GIT_REVISION \"${rev}\"\n"
                      "#define SOCKBENCH_GIT_DIRTY ${dirty}\n"
                      "#define SOCKBENCH_GIT_DIFF_SHA256 \"${diff_sha}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE "${OUT}" "${content}")
endif()
