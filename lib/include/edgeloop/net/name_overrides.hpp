#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::net {

/// curl's --connect-to and --resolve: where a connection to HOST:PORT goes instead, and which
/// addresses a name has without asking DNS. Sans-io; matching ignores case and a trailing dot.
///
/// connect_to entries, "HOST1:PORT1:HOST2:PORT2": a connection to HOST1:PORT1 goes to HOST2:PORT2.
/// An empty HOST1 (or PORT1) matches any host (port); an empty HOST2 (PORT2) keeps the host (port).
/// The first matching entry applies. IPv6 literals in brackets ("[::1]").
///
/// resolve entries, "HOST:PORT:ADDR[,ADDR]...": the name HOST, used with PORT, has these addresses
/// (IPv6 ones may be in brackets); HOST "*" is any name. A leading "+" is accepted (curl's "entry
/// times out"; these never do). The name looked up is the one --connect-to leads to, as in curl.
class name_overrides {
public:
    /// Where a connection goes.
    struct route {
        std::string_view host;
        std::uint16_t port = 0;
    };

    name_overrides() = default;
    /// Throws std::invalid_argument naming the malformed entry and what is wrong with it.
    name_overrides(const std::vector<std::string>& connect_to, const std::vector<std::string>& resolve);

    bool empty() const noexcept { return connect_to_.empty() && resolve_.empty(); }

    /// The route of a connection to host:port: the connect_to entry's, or host:port itself. `host` as it
    /// comes out of http::parse_url (lower case, IPv6 without brackets); the view returned refers to
    /// `host` or to this object.
    route connect_to(std::string_view host, std::uint16_t port) const;
    /// The addresses given for host:port, or nullptr: DNS is asked.
    const std::vector<boost::asio::ip::address>* resolve(std::string_view host, std::uint16_t port) const;

private:
    struct redirect {
        std::string from_host; ///< empty: any
        std::optional<std::uint16_t> from_port;
        std::string to_host; ///< empty: unchanged
        std::optional<std::uint16_t> to_port;
    };
    struct fixed {
        std::string host; ///< "*": any
        std::uint16_t port = 0;
        std::vector<boost::asio::ip::address> addresses;
    };
    std::vector<redirect> connect_to_;
    std::vector<fixed> resolve_;
};

} // namespace edgeloop::net
