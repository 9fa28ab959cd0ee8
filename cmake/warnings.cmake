# Warning and sanitizer flags, applied per target through edgeloop_set_warnings().
add_library(edgeloop_build_flags INTERFACE)
target_compile_options(edgeloop_build_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers
                       $<$<BOOL:${EDGELOOP_WERROR}>:-Werror>)
if(EDGELOOP_SANITIZE)
    target_compile_options(edgeloop_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                           -fno-sanitize-recover=undefined)
    target_link_options(edgeloop_build_flags INTERFACE -fsanitize=address,undefined)
endif()
if(EDGELOOP_TSAN)
    if(EDGELOOP_SANITIZE)
        message(FATAL_ERROR "EDGELOOP_TSAN and EDGELOOP_SANITIZE (ASan) cannot be combined")
    endif()
    # -Wno-tsan: gcc 12 warns that TSan does not model Asio's atomic_thread_fence (std_fenced_block);
    # at worst that could give a false report, never hide a race.
    target_compile_options(edgeloop_build_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
    target_link_options(edgeloop_build_flags INTERFACE -fsanitize=thread)
endif()

if(EDGELOOP_FUZZ)
    # Every target is instrumented for libFuzzer's coverage feedback and checked by ASan + UBSan; only the
    # fuzz executables link the libFuzzer runtime (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt).
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "EDGELOOP_FUZZ needs clang (use the fuzz preset)")
    endif()
    target_compile_options(edgeloop_build_flags INTERFACE -O1 -fsanitize=fuzzer-no-link,address,undefined
                           -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(edgeloop_build_flags INTERFACE -fsanitize=address,undefined)
endif()

function(edgeloop_set_warnings target)
    target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:edgeloop_build_flags>)
endfunction()
