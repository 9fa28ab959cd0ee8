# Properties shared by the libraries that are installed: edgeloop, edgeloop_devserver, edgeloop_boards.
# Built static by default; with -DBUILD_SHARED_LIBS=ON they are shared, with the SONAME
# lib<name>.so.<major>.<minor> (SameMinorVersion compatibility, as the package version file says) and
# only edgeloop's API (and the Boost symbols that must stay one, see edgeloop.map) exported.
function(edgeloop_library_properties target)
    set_target_properties(${target} PROPERTIES
        VERSION ${PROJECT_VERSION}
        SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
    set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/edgeloop.map)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "SHARED_LIBRARY")
        target_link_options(${target} PRIVATE "LINKER:--version-script=${script}")
        set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${script})
    endif()
endfunction()
