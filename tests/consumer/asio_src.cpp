// The consumer's own compiled Asio (BOOST_ASIO_SEPARATE_COMPILATION is set on its target).
#include <boost/asio/impl/src.hpp>
