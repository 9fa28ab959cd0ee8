# Install headers, libraries and a package config: find_package(edgeloop) gives edgeloop::edgeloop,
# edgeloop::boards (and edgeloop::devserver). The board definitions are compiled into edgeloop::boards;
# the JSON files are installed too, as examples to copy and import.
include(CMakePackageConfigHelpers)

# Install components (the Debian packages of cmake/package.cmake): runtime (the shared libraries), dev
# (headers, the .so links or static libraries, CMake config, pkg-config) and tools (the apps, their man
# pages and systemd unit, the board definitions, edgeloop-demo-server: apps/demo_server/CMakeLists.txt).
install(TARGETS edgeloop edgeloop_boards edgeloop_devserver EXPORT edgeloopTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY lib/include/ boards/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES ${EDGELOOP_BOARD_DEFINITIONS} DESTINATION ${CMAKE_INSTALL_DATADIR}/edgeloop/boards COMPONENT tools)
install(EXPORT edgeloopTargets NAMESPACE edgeloop:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgeloop COMPONENT dev)

configure_package_config_file(cmake/edgeloopConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgeloop)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgeloop COMPONENT dev)

# pkg-config: `pkg-config --cflags --libs edgeloop` (shared), `pkg-config --static --cflags --libs edgeloop`
# (static: adds Boost.URL and Boost.JSON). OpenSSL is a public requirement: the public headers include
# Asio's SSL headers, whose inline code calls OpenSSL. Boost ships no .pc file; its headers are found
# in the default include path on Debian.
file(RELATIVE_PATH EDGELOOP_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/edgeloop.pc.in ${CMAKE_CURRENT_BINARY_DIR}/edgeloop.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/edgeloop.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
