#pragma once

// A tiny DNS server of the test's own over UDP on 127.0.0.1 (RFC 1035 wire format, one question per
// query): names it knows get their addresses, names told to stall are never answered, any other name gets
// NXDOMAIN. It counts the queries per name, so a test can tell whether a lookup reached it.

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace edgeloop::test {

class dns_server {
public:
    /// `addresses`: name (lower case, no trailing dot) -> IPv4 and IPv6 addresses (A and AAAA answers,
    /// with `ttl` seconds). `stalled`: names whose queries are read and dropped. Listens on
    /// address:port (port 0: a free one; 53 needs root). Throws boost::system::system_error when it cannot.
    dns_server(boost::asio::io_context& ioc, std::map<std::string, std::vector<std::string>> addresses,
               std::set<std::string> stalled = {}, std::uint32_t ttl = 300,
               const std::string& address = "127.0.0.1", std::uint16_t port = 0);
    ~dns_server();
    dns_server(const dns_server&) = delete;
    dns_server& operator=(const dns_server&) = delete;

    std::uint16_t port() const noexcept;
    /// "<address>:<port>", as http::connect_options::dns_servers takes it.
    std::string address() const;
    /// Queries received for `name` (any type), stalled ones included.
    std::size_t queries(const std::string& name) const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace edgeloop::test
