# Cross build for arm-linux-gnueabihf on Debian 12 multiarch (scripts/setup cross-armhf):
# the compiler from crossbuild-essential-*, Boost and OpenSSL from the :armhf dev packages, which
# install their libraries under /usr/lib/arm-linux-gnueabihf and share /usr/include with the host.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# GCC's notes that the passing of some std:: iterators changed in GCC 7.1 (-Wpsabi) are about ABI with code
# built by GCC 6 or older, which nothing here links; they would bury real diagnostics.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
# Look for libraries and CMake packages in the multiarch directories only (never the host's), programs on the host.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
set(PKG_CONFIG_EXECUTABLE arm-linux-gnueabihf-pkg-config CACHE FILEPATH "")
# Run target programs (ctest, try_run) under qemu user emulation with the multiarch libraries of / (qemu's
# default prefix), not -L /usr/arm-linux-gnueabihf: that cross glibc hangs in pthread_create under qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-arm-static)
# libp11: Debian's libp11-dev cannot be installed for two architectures at once (it is not Multi-Arch: same),
# so scripts/setup installs the native libp11-dev (its header) and the arm-linux-gnueabihf runtime libp11-3, and the
# library's plain -lp11 finds this link to the runtime.
set(_edgeloop_cross_libs ${CMAKE_CURRENT_LIST_DIR}/../../build/cross-libs/arm-linux-gnueabihf)
file(MAKE_DIRECTORY ${_edgeloop_cross_libs})
file(CREATE_LINK /usr/lib/arm-linux-gnueabihf/libp11.so.3 ${_edgeloop_cross_libs}/libp11.so SYMBOLIC)
if(NOT CMAKE_EXE_LINKER_FLAGS_INIT MATCHES "cross-libs")  # this file is read more than once
    string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " -L${_edgeloop_cross_libs}")
    string(APPEND CMAKE_SHARED_LINKER_FLAGS_INIT " -L${_edgeloop_cross_libs}")
endif()
