#pragma once

// The address and name options both apps share, with curl's names and meanings: --resolve, --connect-to,
// -4/--ipv4, -6/--ipv6, --happy-eyeballs-timeout-ms, --dns-servers, --interface, --keepalive-time,
// --no-keepalive.

#include "common/cli.hpp"

#include <edgeloop/http/connect_options.hpp>
#include <edgeloop/http/options.hpp>
#include <edgeloop/net/name_overrides.hpp>

#include <boost/program_options.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace app_common {

struct connect_cli {
    std::vector<std::string> resolve;    ///< --resolve HOST:PORT:ADDR[,ADDR]...
    std::vector<std::string> connect_to; ///< --connect-to HOST1:PORT1:HOST2:PORT2
    bool ipv4 = false;                   ///< -4
    bool ipv6 = false;                   ///< -6
    long long happy_eyeballs_ms = 200;   ///< --happy-eyeballs-timeout-ms
    std::string dns_servers;             ///< --dns-servers IP[:PORT][,IP[:PORT]]...
    std::string interface_name;          ///< --interface NAME|ADDRESS
    long long keepalive_time = 60;       ///< --keepalive-time SECONDS
    bool no_keepalive = false;           ///< --no-keepalive
};

inline void add_connect_options(boost::program_options::options_description& d, connect_cli& c) {
    namespace po = boost::program_options;
    // clang-format off
    d.add_options()
        ("resolve", po::value(&c.resolve)->composing()->value_name("HOST:PORT:ADDR[,ADDR]"),
         "use these addresses for HOST on PORT instead of DNS (repeatable; HOST * for any name)")
        ("connect-to", po::value(&c.connect_to)->composing()->value_name("HOST1:PORT1:HOST2:PORT2"),
         "connect to HOST2:PORT2 for a URL of HOST1:PORT1 (repeatable; empty fields match any / keep);\n"
         "the Host header, TLS name check and allowlist stay on HOST1")
        ("ipv4,4", po::bool_switch(&c.ipv4), "connect over IPv4 addresses only")
        ("ipv6,6", po::bool_switch(&c.ipv6), "connect over IPv6 addresses only")
        ("happy-eyeballs-timeout-ms", po::value(&c.happy_eyeballs_ms)->value_name("MS"),
         "Happy Eyeballs: start the next address of a name this long after the previous one while it\n"
         "still tries (default 200; 0: one address at a time)")
        ("dns-servers", po::value(&c.dns_servers)->value_name("IP[:PORT][,...]"),
         "ask these DNS servers instead of /etc/resolv.conf's (names in /etc/hosts still come from it)")
        ("interface", po::value(&c.interface_name)->value_name("NAME|ADDRESS"),
         "connect from this source address, or through this network device (a device needs CAP_NET_RAW)")
        ("keepalive-time", po::value(&c.keepalive_time)->value_name("SECONDS"),
         "TCP keepalive: first probe after SECONDS idle, then every SECONDS (default 60)")
        ("no-keepalive", po::bool_switch(&c.no_keepalive), "no TCP keepalive probes");
    // clang-format on
}

/// The library's settings for the options given; a malformed entry or -4 with -6 is a usage_error.
inline edgeloop::http::connect_options to_connect_options(const connect_cli& c) {
    if (c.ipv4 && c.ipv6)
        throw usage_error("-4 and -6 go not together");
    if (c.happy_eyeballs_ms < 0 || c.happy_eyeballs_ms > 60000)
        throw usage_error("--happy-eyeballs-timeout-ms: expected 0 to 60000");
    if (c.keepalive_time < 1 || c.keepalive_time > 32767)
        throw usage_error("--keepalive-time: expected 1 to 32767 seconds");
    try {
        const edgeloop::net::name_overrides check(c.connect_to, c.resolve);
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    edgeloop::http::connect_options o;
    o.resolve = c.resolve;
    o.connect_to = c.connect_to;
    o.family = c.ipv4   ? edgeloop::net::ip_family::v4
               : c.ipv6 ? edgeloop::net::ip_family::v6
                        : edgeloop::net::ip_family::any;
    o.happy_eyeballs_delay = std::chrono::milliseconds(c.happy_eyeballs_ms);
    for (std::size_t start = 0; start < c.dns_servers.size();) {
        const auto comma = std::min(c.dns_servers.find(',', start), c.dns_servers.size());
        if (comma == start)
            throw usage_error("--dns-servers: expected IP[:PORT] entries separated by commas");
        o.dns_servers.push_back(c.dns_servers.substr(start, comma - start));
        start = comma + 1;
    }
    o.bind_interface = c.interface_name;
    return o;
}

/// --keepalive-time and --no-keepalive into the pool's TCP keepalive (idle and interval alike, as curl).
inline void apply_keepalive(const connect_cli& c, edgeloop::http::pool_options& p) {
    p.tcp_keepalive = !c.no_keepalive;
    p.tcp_keepalive_idle = p.tcp_keepalive_interval = std::chrono::seconds(c.keepalive_time);
}

} // namespace app_common
