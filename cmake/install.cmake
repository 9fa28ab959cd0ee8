# Install headers, libraries and a package config: find_package(edgeloop) gives edgeloop::edgeloop,
# edgeloop::boards (and edgeloop::devserver). The board definitions are compiled into edgeloop::boards;
# the JSON files are installed too, as examples to copy and import.
include(CMakePackageConfigHelpers)

install(TARGETS edgeloop edgeloop_boards edgeloop_devserver EXPORT edgeloopTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY lib/include/ boards/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${EDGELOOP_BOARD_DEFINITIONS} DESTINATION ${CMAKE_INSTALL_DATADIR}/edgeloop/boards)
install(EXPORT edgeloopTargets NAMESPACE edgeloop:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgeloop)

configure_package_config_file(cmake/edgeloopConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgeloop)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/edgeloopConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgeloop)
