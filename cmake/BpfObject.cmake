# bpf_object(NAME SOURCE [DEPENDS headers...])
#
# Compiles bpf/NAME.bpf.c with clang for the BPF target (CO-RE, against a
# vmlinux.h generated from the build machine's BTF), then generates the libbpf
# skeleton NAME.skel.h with bpftool, and exposes it as the INTERFACE target
# NAME_skel. One object per approach: a kernel that rejects one program never
# blocks the others from loading.

find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

set(SOCKBENCH_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "Kernel BTF used to generate vmlinux.h")
set(BPF_GEN_DIR "${CMAKE_BINARY_DIR}/bpf")
file(MAKE_DIRECTORY "${BPF_GEN_DIR}")

if(NOT EXISTS "${SOCKBENCH_BTF}")
  message(FATAL_ERROR
    "sockbench: no kernel BTF at ${SOCKBENCH_BTF}. BPF CO-RE programs need a "
    "kernel built with CONFIG_DEBUG_INFO_BTF=y (or pass -DSOCKBENCH_BTF=<file>).")
endif()

# Call once, in the directory whose bpf_object() calls use it (Makefile
# generators only see custom-command outputs of their own directory).
function(bpf_vmlinux_header)
add_custom_command(
  OUTPUT "${BPF_GEN_DIR}/vmlinux.h"
  COMMAND "${BPFTOOL}" btf dump file "${SOCKBENCH_BTF}" format c > "${BPF_GEN_DIR}/vmlinux.h.tmp"
  COMMAND ${CMAKE_COMMAND} -E rename "${BPF_GEN_DIR}/vmlinux.h.tmp" "${BPF_GEN_DIR}/vmlinux.h"
  COMMENT "Generating vmlinux.h from ${SOCKBENCH_BTF}"
  VERBATIM)
# One owner for the header, so parallel object builds never race on it.
add_custom_target(vmlinux_h DEPENDS "${BPF_GEN_DIR}/vmlinux.h")
endfunction()

# The BPF target has no arch headers of its own; CO-RE macros need the arch.
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _bpf_arch)
if(_bpf_arch MATCHES "x86_64|amd64")
  set(_bpf_arch x86)
elseif(_bpf_arch MATCHES "aarch64|arm64")
  set(_bpf_arch arm64)
endif()

# bpf_object(NAME SOURCE [CPU v3] [DEPENDS ...]): CPU v3 lets a program use
# the value an atomic add returns (__sync_fetch_and_add), which clang 14
# refuses for the default CPU.
function(bpf_object NAME SOURCE)
  cmake_parse_arguments(ARG "" "CPU" "DEPENDS" ${ARGN})
  set(_cpu "")
  if(ARG_CPU)
    set(_cpu "-mcpu=${ARG_CPU}")
  endif()
  set(_obj "${BPF_GEN_DIR}/${NAME}.bpf.o")
  set(_skel "${BPF_GEN_DIR}/${NAME}.skel.h")
  add_custom_command(
    OUTPUT "${_obj}"
    COMMAND "${BPF_CLANG}" -g -O2 -Wall -Werror -target bpf ${_cpu}
            -D__TARGET_ARCH_${_bpf_arch}
            -I "${BPF_GEN_DIR}" -I "${CMAKE_SOURCE_DIR}/bpf"
            -c "${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE}" -o "${_obj}"
    DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE}" "${BPF_GEN_DIR}/vmlinux.h" ${ARG_DEPENDS}
    COMMENT "BPF ${NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_skel}"
    COMMAND "${BPFTOOL}" gen skeleton "${_obj}" name "${NAME}_bpf" > "${_skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${_skel}.tmp" "${_skel}"
    DEPENDS "${_obj}"
    COMMENT "skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS "${_skel}")
  add_dependencies(${NAME}_skel_gen vmlinux_h)
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel INTERFACE "${BPF_GEN_DIR}")
endfunction()
