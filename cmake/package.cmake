# Debian packages with CPack's DEB generator (scripts/package [amd64|arm64] configures a Release build with
# -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX=/usr -DEDGELOOP_PACKAGE=ON and runs cpack). One package per
# install component (cmake/install.cmake):
#   libedgeloop<major>.<minor>  runtime  the shared libraries (SONAME libedgeloop*.so.<major>.<minor>)
#   libedgeloop-dev             dev      headers, .so links, CMake config, pkg-config
#   edgeloop-tools              tools    multi_fetch, aws_post, their man pages (help2man), the systemd unit,
#                                        the board definitions, edgeloop-demo-server (their --demo endpoint,
#                                        in /usr/libexec/edgeloop)
# CPack rather than dpkg-buildpackage: the install rules are already the package contents, the packages come
# from the same (cross) build tree as the tests, and dpkg-shlibdeps still computes the library dependencies
# (CPACK_DEBIAN_PACKAGE_SHLIBDEPS) for the build's architecture, from the :arm64 multiarch packages' shlibs
# when cross building.
set(EDGELOOP_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(EDGELOOP_RUNTIME_PACKAGE libedgeloop${EDGELOOP_SOVERSION})

# Man pages from --help (help2man, Debian package help2man). The programs run on the build machine: a cross
# build's run under qemu-user through binfmt_misc (scripts/setup cross-arm64 registers it).
find_program(HELP2MAN_EXECUTABLE help2man REQUIRED)
set(man_dir ${CMAKE_CURRENT_BINARY_DIR}/man)
set(man_pages "")
foreach(app_and_summary IN ITEMS "multi_fetch|fetch many URLs concurrently over HTTP/1.1 and TLS"
                                 "aws_post|publish messages to AWS IoT Core over HTTPS with mutual TLS")
    string(REPLACE "|" ";" pair "${app_and_summary}")
    list(GET pair 0 app)
    list(GET pair 1 summary)
    add_custom_command(OUTPUT ${man_dir}/${app}.1.gz
        COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}
        COMMAND ${HELP2MAN_EXECUTABLE} --no-info --no-discard-stderr --section=1
                --version-string=${PROJECT_VERSION} --name=${summary} --output=${man_dir}/${app}.1 $<TARGET_FILE:${app}>
        COMMAND gzip -9nf ${man_dir}/${app}.1
        DEPENDS ${app}
        COMMENT "Man page ${app}.1 from ${app} --help"
        VERBATIM)
    list(APPEND man_pages ${man_dir}/${app}.1.gz)
endforeach()
add_custom_target(edgeloop_man_pages ALL DEPENDS ${man_pages})
install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)

# The package architecture: the build's (a cross build's, from its compiler), as dpkg names it.
if(NOT DEFINED EDGELOOP_DEB_ARCH)
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -dumpmachine OUTPUT_VARIABLE triplet OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND dpkg-architecture -qDEB_HOST_ARCH -t${triplet}
        OUTPUT_VARIABLE EDGELOOP_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgeloop)
set(CPACK_PACKAGE_VENDOR "edgeloop")
set(CPACK_PACKAGE_CONTACT "edgeloop maintainers <edgeloop@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Reactor-style networking for IoT gateways on Boost.Asio")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://example.invalid/edgeloop")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/cpack)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${EDGELOOP_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Dependencies on shared libraries computed by dpkg-shlibdeps; our own libraries (in the runtime package)
# are looked up in this build tree and depended on by name below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/lib ${CMAKE_BINARY_DIR}/boards)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(exact "(= ${PROJECT_VERSION}-1)")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${EDGELOOP_RUNTIME_PACKAGE})
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "edgeloop shared libraries
 edgeloop is a C++20 Boost.Asio/Beast networking library for IoT gateways: HTTP/1.1 and TLS clients,
 AWS IoT publishing, GPIO boards and a store-and-forward outbox. This package has the shared libraries.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libedgeloop-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The CMake config's find_dependency() and the public headers' includes: Boost 1.81 (headers, URL, JSON,
# program_options) and OpenSSL 3.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${EDGELOOP_RUNTIME_PACKAGE} ${exact}, libssl-dev (>= 3), libboost1.81-dev, libboost-url1.81-dev, libboost-json1.81-dev, libboost-program-options1.81-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION "edgeloop development files
 Headers, CMake package configuration (find_package(edgeloop)) and pkg-config file (edgeloop.pc) for
 building programs against the edgeloop shared libraries.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME edgeloop-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${EDGELOOP_RUNTIME_PACKAGE} ${exact}")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "edgeloop tools: multi_fetch and aws_post
 multi_fetch fetches many URLs concurrently (and blinks GPIO boards); aws_post publishes to AWS IoT Core
 with mutual TLS, once or as a systemd store-and-forward service (aws_post.service, not enabled on install).
 Board definitions for multi_fetch --board are in /usr/share/edgeloop/boards. The endpoint that --demo
 starts, edgeloop-demo-server, is in /usr/libexec/edgeloop.")

include(CPack)
