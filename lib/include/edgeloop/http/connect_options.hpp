#pragma once

#include <edgeloop/net/ip_family.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace edgeloop::http {

/// How names become connections (curl's --resolve, --connect-to, -4/-6, --happy-eyeballs-timeout-ms).
/// Applied to the host of every hop after the allowlist, which always judges the URL's own host.
struct connect_options {
    /// "HOST1:PORT1:HOST2:PORT2" (net::name_overrides): connect there instead; the Host header, TLS SNI
    /// and certificate verification stay on the URL's host. Not applied through a proxy (the proxy
    /// connects to the target). A malformed entry makes the client constructor throw
    /// std::invalid_argument.
    std::vector<std::string> connect_to;
    /// "HOST:PORT:ADDR[,ADDR]..." (net::name_overrides): the addresses of a name, without DNS. Applies
    /// to a proxy's name too.
    std::vector<std::string> resolve;
    /// Restrict connections to one address family (-4 / -6).
    net::ip_family family = net::ip_family::any;
    /// Happy Eyeballs (RFC 8305): a name's addresses are tried in interleaved family order, the next one
    /// starting this long after the previous one (or at once when it fails) while the earlier attempts
    /// go on; the first connected wins and the others are closed. Each address has its own connect
    /// deadline, as curl: the remaining timeouts::connect when it is the last address, else half of it,
    /// so one blackholed address cannot eat the whole connect budget. Zero: no race, the addresses are
    /// tried one after another (each with that same deadline).
    std::chrono::milliseconds happy_eyeballs_delay{200};
    /// DNS servers asked for names that are not IP literals, not in --resolve and not in /etc/hosts:
    /// "IP" or "IP:PORT" ("[::1]:5353"), as curl's --dns-servers. Empty: the system's (/etc/resolv.conf,
    /// read again when it changes). Names are resolved by c-ares on the event loop (net::resolver), so a
    /// lookup that hangs delays no other transfer. A malformed entry makes the client constructor throw
    /// std::invalid_argument.
    std::vector<std::string> dns_servers;
    /// How long a name's addresses are reused by the client's new connections without asking DNS again
    /// (curl's DNS cache timeout, 60 s); zero: no cache. Failures are not cached.
    std::chrono::seconds dns_cache_ttl{60};
    /// Source of every connection (curl's --interface): an IP address to bind to ("127.0.0.2", "::1"),
    /// or a network device name ("eth0", "wwan0": SO_BINDTODEVICE, which needs CAP_NET_RAW). Empty: the
    /// system's choice.
    std::string bind_interface;
};

} // namespace edgeloop::http
