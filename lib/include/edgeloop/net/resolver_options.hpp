#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace edgeloop::net {

/// Settings of net::resolver (DNS through c-ares on the event loop).
struct resolver_options {
    /// DNS servers, "IP" or "IP:PORT" ("[::1]:53" for IPv6 with a port), as curl's --dns-servers. Empty:
    /// the system's (/etc/resolv.conf).
    std::vector<std::string> servers;
    /// How long an answer is reused for the same name (curl's dns_cache_timeout); zero: no cache. Failures
    /// are never cached.
    std::chrono::seconds cache_ttl{60};
    /// The resolver configuration file whose change (modification time, size, inode; checked before each
    /// lookup) makes the next lookup use a fresh configuration: a gateway's link comes and goes.
    std::string resolv_conf = "/etc/resolv.conf";
    /// c-ares's per-try timeout and tries per server (the caller's own deadline usually ends a lookup
    /// sooner; an abandoned lookup still ends by these).
    std::chrono::milliseconds try_timeout{2000};
    int tries = 2;
};

} // namespace edgeloop::net
