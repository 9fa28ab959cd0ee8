#pragma once

// The Asio configuration that a program shares with edgeloop. The library is built as Asio is by
// default (header-only, deprecated names available) and sets no Asio macro on the program, which may
// use Asio header-only or compiled separately (BOOST_ASIO_SEPARATE_COMPILATION and its own
// boost/asio/impl/src.hpp). What must be the same in every translation unit is what changes the meaning
// of Asio's own non-template functions: in Boost 1.81, BOOST_ASIO_NO_DEPRECATED makes the default
// asio_handler_allocate hook return no memory, so a program built with it would hand the library a null
// allocation. This is checked wherever an edgeloop header is included.
#if defined(BOOST_ASIO_NO_DEPRECATED)
#error                                                                                                       \
    "edgeloop: do not define BOOST_ASIO_NO_DEPRECATED (with Boost 1.81 it changes Asio's handler allocation hooks, which the program and the library share)"
#endif
