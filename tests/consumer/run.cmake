# Installs edgeloop into a fresh prefix and builds consumers against that prefix only, first against the
# static libraries of the main build, then against shared ones built here from the same sources (the
# libraries only, with the main build's compiler, build type and compiler launcher):
#   - tests/consumer with find_package(edgeloop): main.cpp (boards), header_only.cpp (Asio header-only,
#     deprecated names), own_asio.cpp (its own socket, timer and coroutine, Asio compiled separately);
#   - header_only.cpp compiled and linked with `pkg-config [--static] --cflags --libs edgeloop`.
# The shared library is installed over the static one (as a distribution's -dev package ships both), so
# the consumer objects are reused and only relinked.
#
#   cmake -DSOURCE_DIR=<repo> -DBUILD_DIR=<main build dir> -DWORK_DIR=<scratch dir> -P run.cmake

cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS SOURCE_DIR BUILD_DIR WORK_DIR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT EXISTS "${BUILD_DIR}/CMakeCache.txt")
    message(FATAL_ERROR "run.cmake: ${BUILD_DIR} is not a CMake build tree")
endif()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")
set(shared_build "${WORK_DIR}/shared-lib")
set(pc_build "${WORK_DIR}/pkg-config")

# Settings of the main build, read from its cache.
function(main_cache_value name out)
    file(STRINGS "${BUILD_DIR}/CMakeCache.txt" lines REGEX "^${name}:[A-Z]+=")
    set(value "")
    if(lines)
        list(GET lines 0 line)
        string(REGEX REPLACE "^${name}:[A-Z]+=" "" value "${line}")
    endif()
    set(${out} "${value}" PARENT_SCOPE)
endfunction()
main_cache_value(CMAKE_CXX_COMPILER cxx_compiler)
main_cache_value(CMAKE_BUILD_TYPE build_type)
main_cache_value(CMAKE_MAKE_PROGRAM make_program)
main_cache_value(CMAKE_CXX_COMPILER_LAUNCHER launcher)
if(NOT launcher AND DEFINED ENV{CMAKE_CXX_COMPILER_LAUNCHER})
    set(launcher "$ENV{CMAKE_CXX_COMPILER_LAUNCHER}")
endif()

set(config_args "")
if(cxx_compiler)
    list(APPEND config_args "-DCMAKE_CXX_COMPILER=${cxx_compiler}")
endif()
if(build_type)
    list(APPEND config_args "-DCMAKE_BUILD_TYPE=${build_type}")
endif()
if(make_program)
    list(APPEND config_args "-DCMAKE_MAKE_PROGRAM=${make_program}")
endif()
if(launcher)
    list(APPEND config_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${launcher}")
endif()

# run_step(<name> <command>...): runs the command, FATAL_ERROR with its output when it fails.
function(run_step name)
    execute_process(COMMAND ${ARGN}
        RESULT_VARIABLE result
        OUTPUT_VARIABLE output
        ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        string(JOIN " " command ${ARGN})
        message(FATAL_ERROR "consumer: ${name} failed (${result})\n  ${command}\n${output}")
    endif()
    message(STATUS "consumer: ${name}: ok")
    set(step_output "${output}" PARENT_SCOPE)
endfunction()

# run_consumers(<kind>): builds tests/consumer against the prefix and runs its programs; then header_only.cpp
# with pkg-config's flags (kind static: --static).
function(run_consumers kind)
    run_step("${kind}: configure" "${CMAKE_COMMAND}"
        -S "${SOURCE_DIR}/tests/consumer"
        -B "${consumer_build}"
        -G Ninja
        "-DCMAKE_PREFIX_PATH=${prefix}"
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
        ${config_args})

    # The package must come from the fresh prefix, not from the build tree or the system.
    file(STRINGS "${consumer_build}/CMakeCache.txt" edgeloop_dir_line REGEX "^edgeloop_DIR:")
    string(REGEX REPLACE "^edgeloop_DIR:[A-Z]+=" "" edgeloop_dir "${edgeloop_dir_line}")
    file(REAL_PATH "${prefix}" real_prefix)
    file(REAL_PATH "${edgeloop_dir}" real_edgeloop_dir)
    string(FIND "${real_edgeloop_dir}/" "${real_prefix}/" at)
    if(NOT at EQUAL 0)
        message(FATAL_ERROR "consumer: edgeloop was found in ${edgeloop_dir}, not under ${prefix}")
    endif()

    run_step("${kind}: build" "${CMAKE_COMMAND}" --build "${consumer_build}")
    foreach(program IN ITEMS edgeloop_consumer consumer_header_only consumer_own_asio)
        run_step("${kind}: run ${program}" "${consumer_build}/${program}")
        message(STATUS "${step_output}")
        check_linkage(${kind} "${consumer_build}/${program}")
    endforeach()

    # pkg-config: edgeloop.pc from the prefix, openssl.pc from the system.
    set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
    set(pc_static "")
    if(kind STREQUAL "static")
        set(pc_static --static)
    endif()
    run_step("${kind}: pkg-config --cflags" pkg-config --cflags edgeloop)
    separate_arguments(cflags UNIX_COMMAND "${step_output}")
    run_step("${kind}: pkg-config ${pc_static} --libs" pkg-config ${pc_static} --libs edgeloop)
    separate_arguments(libs UNIX_COMMAND "${step_output}")
    file(MAKE_DIRECTORY "${pc_build}")
    set(object "${pc_build}/header_only.o")
    if(NOT EXISTS "${object}")
        run_step("pkg-config: compile" ${launcher} "${cxx_compiler}" -std=c++20 ${cflags} -c
                 "${SOURCE_DIR}/tests/consumer/header_only.cpp" -o "${object}")
    endif()
    set(program "${pc_build}/header_only_${kind}")
    run_step("${kind}: pkg-config link" "${cxx_compiler}" "${object}" -o "${program}" ${libs}
             "-Wl,-rpath,${prefix}/${libdir}")
    run_step("${kind}: run pkg-config consumer" "${program}")
    message(STATUS "${step_output}")
    check_linkage(${kind} "${program}")
endfunction()

# A program built with BOOST_ASIO_NO_DEPRECATED is refused at compile time (core/asio_config.hpp), not
# left to crash in Asio's handler allocation.
function(check_no_deprecated_is_refused)
    execute_process(COMMAND "${cxx_compiler}" -std=c++20 -fsyntax-only -DBOOST_ASIO_NO_DEPRECATED
                            "-I${prefix}/include" -x c++ -
        INPUT_FILE "${SOURCE_DIR}/tests/consumer/main.cpp"
        RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    string(FIND "${output}" "do not define BOOST_ASIO_NO_DEPRECATED" at)
    if(result EQUAL 0 OR at EQUAL -1)
        message(FATAL_ERROR "consumer: BOOST_ASIO_NO_DEPRECATED was not refused:\n${output}")
    endif()
    message(STATUS "consumer: BOOST_ASIO_NO_DEPRECATED refused: ok")
endfunction()

# check_linkage(<kind> <program>): a program linked against the shared library needs libedgeloop.so.<so>;
# one linked statically does not.
function(check_linkage kind program)
    execute_process(COMMAND readelf -d "${program}" OUTPUT_VARIABLE dynamic RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "consumer: readelf -d ${program} failed")
    endif()
    string(FIND "${dynamic}" "[libedgeloop.so.${soversion}]" needed)
    if(kind STREQUAL "shared" AND needed EQUAL -1)
        message(FATAL_ERROR "consumer: ${program} does not need libedgeloop.so.${soversion}:\n${dynamic}")
    elseif(kind STREQUAL "static" AND NOT needed EQUAL -1)
        message(FATAL_ERROR "consumer: ${program} needs the shared library in the static case")
    endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

main_cache_value(CMAKE_INSTALL_LIBDIR libdir)
if(NOT libdir)
    set(libdir lib)
endif()
set(pc_dir "${prefix}/${libdir}/pkgconfig")

# 1. The static libraries of the main build.
run_step(install "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(installed IN ITEMS include/edgeloop/gpio.hpp include/edgeloop/boards.hpp include/edgeloop/http/full_response.hpp
                           share/edgeloop/boards/sim.json share/edgeloop/boards/raspberrypi.json
                           ${libdir}/libedgeloop.a ${libdir}/pkgconfig/edgeloop.pc)
    if(NOT EXISTS "${prefix}/${installed}")
        message(FATAL_ERROR "consumer: ${installed} was not installed")
    endif()
endforeach()
# The SONAME carries major.minor of the version (cmake/library.cmake).
file(STRINGS "${prefix}/${libdir}/cmake/edgeloop/edgeloopConfigVersion.cmake" version_line
     REGEX "set\\(PACKAGE_VERSION \"")
string(REGEX MATCH "[0-9]+\\.[0-9]+" soversion "${version_line}")
run_consumers(static)
check_no_deprecated_is_refused()

# 2. Shared libraries: the library targets only, built with BUILD_SHARED_LIBS and installed over the first.
run_step("shared: configure the library" "${CMAKE_COMMAND}"
    -S "${SOURCE_DIR}"
    -B "${shared_build}"
    -G Ninja
    -DBUILD_SHARED_LIBS=ON
    -DEDGELOOP_BUILD_TESTS=OFF
    -DEDGELOOP_BUILD_APPS=OFF
    -DEDGELOOP_WERROR=ON
    ${config_args})
run_step("shared: build the library" "${CMAKE_COMMAND}" --build "${shared_build}")
run_step("shared: install" "${CMAKE_COMMAND}" --install "${shared_build}" --prefix "${prefix}")
foreach(library IN ITEMS edgeloop edgeloop_devserver edgeloop_boards)
    set(file "${prefix}/${libdir}/lib${library}.so.${soversion}")
    if(NOT EXISTS "${file}")
        message(FATAL_ERROR "consumer: lib${library}.so.${soversion} was not installed")
    endif()
    execute_process(COMMAND readelf -d "${file}" OUTPUT_VARIABLE dynamic)
    string(FIND "${dynamic}" "Library soname: [lib${library}.so.${soversion}]" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "consumer: lib${library}.so has no SONAME lib${library}.so.${soversion}:\n${dynamic}")
    endif()
endforeach()
# Only edgeloop's API is exported, and the Boost names that must be one object with the program's
# (cmake/edgeloop.map): no std:: instantiation, no helper of ours outside the namespace.
execute_process(COMMAND nm -D -C --defined-only "${prefix}/${libdir}/libedgeloop.so.${soversion}"
    OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "consumer: nm -D libedgeloop.so failed")
endif()
string(REPLACE "\n" ";" symbols "${symbols}")
set(foreign "")
foreach(line IN LISTS symbols)
    string(REGEX REPLACE "^[0-9a-f]* *[A-Za-z] " "" name "${line}")
    string(REGEX REPLACE "^(typeinfo name for|typeinfo for|vtable for|VTT for|guard variable for|non-virtual thunk to|virtual thunk to|TLS init function for|TLS wrapper function for) " "" name "${name}")
    if(name AND NOT name MATCHES "^(edgeloop|boost)::" AND NOT name MATCHES "^EDGELOOP_[0-9.]*$")
        list(APPEND foreign "${line}")
    endif()
endforeach()
list(LENGTH foreign foreign_count)
if(foreign_count GREATER 0)
    list(SUBLIST foreign 0 20 shown)
    string(JOIN "\n  " shown ${shown})
    message(FATAL_ERROR "consumer: libedgeloop.so exports ${foreign_count} names outside edgeloop:: and boost::, e.g.\n  ${shown}")
endif()
run_consumers(shared)
