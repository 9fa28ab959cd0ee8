#pragma once

// Private to lib/src/http: what is set on a connection's socket besides connecting it — the source
// (connect_options::bind_interface, curl's --interface) before, TCP keepalive (pool_options) after.

#include <edgeloop/http/options.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <string>

namespace edgeloop::http::detail {

/// Opens `s` for `to`'s family and binds it to `source`: an IP address (port 0), or else a device name
/// (SO_BINDTODEVICE). Nothing when `source` is empty. On failure `detail` says what and why (a device
/// without CAP_NET_RAW names that capability).
boost::system::error_code bind_source(boost::asio::ip::tcp::socket& s,
                                      const boost::asio::ip::tcp::endpoint& to, const std::string& source,
                                      std::string& detail);

/// SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT from `p` (when p.tcp_keepalive).
void apply_keepalive(boost::asio::ip::tcp::socket& s, const pool_options& p);

} // namespace edgeloop::http::detail
