#pragma once

namespace edgeloop::net {

/// Which address families a name may be connected through (curl's -4 / -6).
enum class ip_family : unsigned char {
    any, ///< both: IPv6 and IPv4 addresses race (Happy Eyeballs)
    v4,  ///< IPv4 addresses only (-4)
    v6,  ///< IPv6 addresses only (-6)
};

} // namespace edgeloop::net
