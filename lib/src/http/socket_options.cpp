#include "socket_options.hpp"

#include <boost/asio/ip/address.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace edgeloop::http::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

error_code bind_source(tcp::socket& s, const tcp::endpoint& to, const std::string& source,
                       std::string& detail) {
    if (source.empty())
        return {};
    error_code ec;
    if (!s.is_open())
        s.open(to.protocol(), ec);
    if (ec) {
        detail = "cannot open a socket: " + ec.message();
        return ec;
    }
    error_code not_ip;
    const auto address = net::ip::make_address(source, not_ip);
    if (!not_ip) {
        if (address.is_v4() != to.address().is_v4()) {
            detail = "--interface " + source + " is an IPv" + (address.is_v4() ? "4" : "6") + " address, " +
                     to.address().to_string() + " is not";
            return net::error::address_family_not_supported;
        }
        s.bind(tcp::endpoint(address, 0), ec);
        if (ec)
            detail = "cannot bind to --interface " + source + ": " + ec.message();
        return ec;
    }
    if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, source.c_str(),
                     static_cast<socklen_t>(source.size())) != 0) {
        const int e = errno;
        ec = error_code(e, boost::system::system_category());
        detail = "cannot bind to device --interface " + source + ": " + ec.message() +
                 (e == EPERM    ? " (binding to a device needs CAP_NET_RAW: run as root, or give the program "
                                  "the capability, e.g. setcap cap_net_raw+ep; or give a source address instead)"
                  : e == ENODEV ? " (no such network device)"
                                : "");
    }
    return ec;
}

void apply_keepalive(tcp::socket& s, const pool_options& p) {
    if (!p.tcp_keepalive)
        return;
    error_code ignored;
    s.set_option(net::socket_base::keep_alive(true), ignored);
    const int fd = s.native_handle();
    const int idle = static_cast<int>(std::clamp<long long>(p.tcp_keepalive_idle.count(), 1, 32767));
    const int interval = static_cast<int>(std::clamp<long long>(p.tcp_keepalive_interval.count(), 1, 32767));
    const int count = std::clamp(p.tcp_keepalive_count, 1, 127);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

} // namespace edgeloop::http::detail
