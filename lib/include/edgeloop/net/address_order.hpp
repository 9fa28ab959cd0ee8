#pragma once

#include <edgeloop/net/ip_family.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <vector>

namespace edgeloop::net {

/// The order in which a connection race tries a name's addresses (RFC 8305 section 4): the addresses
/// of `family` only, the families interleaved (one IPv6, one IPv4, one IPv6, ...), starting with the
/// family of the first address given (getaddrinfo's RFC 6724 preference), each family keeping its own
/// order. Duplicates are dropped. Rewrites `addresses` in place.
void happy_eyeballs_order(std::vector<boost::asio::ip::tcp::endpoint>& addresses, ip_family family);

} // namespace edgeloop::net
