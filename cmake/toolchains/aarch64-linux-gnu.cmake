# Cross build for aarch64-linux-gnu on Debian 12 multiarch (scripts/setup cross-arm64):
# the compiler from crossbuild-essential-*, Boost and OpenSSL from the :arm64 dev packages, which
# install their libraries under /usr/lib/aarch64-linux-gnu and share /usr/include with the host.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Look for libraries and CMake packages in the multiarch directories only (never the host's), programs on the host.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config CACHE FILEPATH "")
# Run target programs (ctest, try_run) under qemu user emulation with the multiarch libraries of / (qemu's
# default prefix), not -L /usr/aarch64-linux-gnu: that cross glibc hangs in pthread_create under qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64-static)
# libp11: Debian's libp11-dev cannot be installed for two architectures at once (it is not Multi-Arch: same),
# so scripts/setup installs the native libp11-dev (its header) and the aarch64-linux-gnu runtime libp11-3, and the
# library's plain -lp11 finds this link to the runtime.
set(_edgeloop_cross_libs ${CMAKE_CURRENT_LIST_DIR}/../../build/cross-libs/aarch64-linux-gnu)
file(MAKE_DIRECTORY ${_edgeloop_cross_libs})
file(CREATE_LINK /usr/lib/aarch64-linux-gnu/libp11.so.3 ${_edgeloop_cross_libs}/libp11.so SYMBOLIC)
if(NOT CMAKE_EXE_LINKER_FLAGS_INIT MATCHES "cross-libs")  # this file is read more than once
    string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " -L${_edgeloop_cross_libs}")
    string(APPEND CMAKE_SHARED_LINKER_FLAGS_INIT " -L${_edgeloop_cross_libs}")
endif()
