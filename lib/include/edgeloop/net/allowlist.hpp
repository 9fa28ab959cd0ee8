#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::net {

/// The Azure Sphere AllowedConnections capability: the hosts a device may connect to.
///
/// Entries are host names ("example.com"), wildcard patterns ("*.example.com": any name below
/// example.com, not example.com itself) or IP literals ("127.0.0.1", "::1"). Matching ignores case and a
/// trailing dot; an IP literal host matches only the same address written as an IP entry (so
/// "127.1" or "0x7f.0.0.1" never match a name entry). An empty list allows everything.
class allowlist {
public:
    allowlist() = default;
    /// Throws std::invalid_argument naming a malformed entry (empty, "*", "*.", embedded wildcard).
    explicit allowlist(const std::vector<std::string>& entries);

    /// True when the list has no entries (no restriction).
    bool empty() const noexcept { return names_.empty() && suffixes_.empty() && ips_.empty(); }

    /// `host` as it comes out of http::parse_url (lower case, IPv6 without brackets).
    bool allows(std::string_view host) const;

    /// Normalises a host name: lower case, one trailing dot removed.
    static std::string normalise(std::string_view host);

private:
    std::vector<std::string> names_;
    std::vector<std::string> suffixes_; ///< ".example.com" for "*.example.com"
    std::vector<std::string> ips_;      ///< canonical text of IP entries
};

} // namespace edgeloop::net
