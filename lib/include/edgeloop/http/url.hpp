#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace edgeloop::http {

/// The parts of an http or https URL that a connection needs.
struct url_parts {
    bool tls = false; ///< https
    std::string host; ///< host name, IPv4 literal, or IPv6 literal without brackets, lower case
    bool host_is_ip = false;
    std::uint16_t port = 0; ///< explicit port or the scheme's default (80, 443)
    std::string target;     ///< origin-form request target: path (at least "/") and query

    /// "host:port" with IPv6 hosts in brackets, as used in messages and the Host header.
    std::string authority() const;
    /// Value of the Host header: the port is omitted when it is the scheme's default.
    std::string host_header() const;
    /// The name sent in SNI and checked against the server certificate: the host without the trailing
    /// dot of an absolute name ("localhost." -> "localhost"; RFC 6066 3 forbids it in SNI, and
    /// certificates never carry it).
    std::string tls_name() const;
};

/// Parses an absolute http(s) URL with Boost.URL. Errors: error::invalid_url, error::unsupported_scheme.
boost::system::result<url_parts> parse_url(std::string_view url);

} // namespace edgeloop::http
