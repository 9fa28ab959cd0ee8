# Installs the edgeloop build tree into a fresh prefix, then configures, builds and runs tests/consumer
# against that prefix only (find_package(edgeloop)).
#
#   cmake -DSOURCE_DIR=<repo> -DBUILD_DIR=<main build dir> -DWORK_DIR=<scratch dir> -P run.cmake
#
# The consumer is built with the compiler, build type and make program of the main build.

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

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run_step(install "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(installed IN ITEMS include/edgeloop/gpio.hpp include/edgeloop/boards.hpp share/edgeloop/boards/sim.json
                           share/edgeloop/boards/raspberrypi.json)
    if(NOT EXISTS "${prefix}/${installed}")
        message(FATAL_ERROR "consumer: ${installed} was not installed")
    endif()
endforeach()

run_step(configure "${CMAKE_COMMAND}"
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

run_step(build "${CMAKE_COMMAND}" --build "${consumer_build}")

run_step(run "${consumer_build}/edgeloop_consumer")
message(STATUS "${step_output}")
