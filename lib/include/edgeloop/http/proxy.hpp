#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace edgeloop::http {

/// Which proxy transfers go through (client_options::proxy). Selection as curl does it: `url` first; else,
/// with `from_environment`, https_proxy / HTTPS_PROXY for an https target, http_proxy (lower case only, as
/// curl: HTTP_PROXY may be set by a CGI request header) for an http target, then all_proxy / ALL_PROXY. A
/// target host matching the no_proxy list (`no_proxy`, or else no_proxy / NO_PROXY from the environment)
/// goes direct. The client's allowlist applies to the target on every hop, proxied or not.
struct proxy_options {
    /// "SCHEME://[user:password@]host[:port]" (port 1080 when left out, 443 for https://, as curl); "" =
    /// none. Schemes: http:// (CONNECT tunnel for https, absolute-form requests for http), https:// (the
    /// same inside TLS with the proxy itself, verified with ca_file/ca_dir/insecure below: an https
    /// target's TLS then runs inside the proxy's), socks5:// (SOCKS5, RFC 1928; the client resolves the
    /// target's name and sends an address) and socks5h:// (SOCKS5; the proxy resolves the name).
    std::string url;
    /// "user:password" for proxy authentication (Basic for http://, RFC 1929 username/password for
    /// SOCKS5); takes the place of the URL's userinfo. Never logged.
    std::string credentials;
    /// Hosts that never go through a proxy (curl's --noproxy): comma (or space) separated host names,
    /// domain suffixes with or without a leading dot, IP addresses, CIDR ranges, or "*" for all. When
    /// set (even to ""), NO_PROXY / no_proxy from the environment are not read.
    std::optional<std::string> no_proxy;
    /// Read the proxy environment variables (see above) when the client is made. Off by default in the
    /// library; the apps turn it on.
    bool from_environment = false;
    /// Trust for an https:// proxy's own certificate (curl's --proxy-cacert / --proxy-capath), separate
    /// from the target's (tls::options). Neither set: the system store. The proxy is verified by
    /// default: its chain, and its host name (or IP address) in the subjectAltName; SNI carries its name.
    /// The client identity of tls::options is never presented to the proxy, only to the target.
    std::string ca_file;
    std::string ca_dir;
    /// Turns off all verification of an https:// proxy (curl's --proxy-insecure). Loud: every connection
    /// to the proxy logs a warning, as tls::options::insecure does for the target.
    bool insecure = false;
};

/// The protocol spoken to a proxy.
enum class proxy_scheme : unsigned char {
    http,    ///< HTTP: CONNECT for https targets, absolute-form requests for http ones
    socks5,  ///< SOCKS5 with the target's name resolved by the client (an address is sent)
    socks5h, ///< SOCKS5 with the target's name sent to the proxy, which resolves it
    https,   ///< HTTP inside TLS with the proxy: as http, with the target's TLS inside the proxy's
};

/// A parsed proxy URL.
struct proxy_endpoint {
    proxy_scheme scheme = proxy_scheme::http;
    std::string host; ///< without IPv6 brackets
    std::uint16_t port = 1080;
    std::string user;     ///< percent-decoded
    std::string password; ///< percent-decoded
    bool has_credentials = false;
    std::string authority() const; ///< "host:port", IPv6 in brackets
    /// "scheme://host:port": what messages and -v show (never the credentials).
    std::string display() const;
    bool is_socks() const noexcept {
        return scheme == proxy_scheme::socks5 || scheme == proxy_scheme::socks5h;
    }
    bool is_tls() const noexcept { return scheme == proxy_scheme::https; } ///< https://: TLS with the proxy
};

/// Parses "SCHEME://[user:password@]host[:port]" with SCHEME http, https, socks5 or socks5h (a URL
/// without scheme is taken as http://, as curl does; https:// defaults to port 443). Error:
/// error::invalid_proxy (another scheme, no host, a path).
boost::system::result<proxy_endpoint> parse_proxy_url(std::string_view url);

/// True when `host` (a name, an IPv4 address or an IPv6 address with or without brackets, optionally
/// with a trailing dot) matches an entry of a no_proxy `list` (curl's rules: "*" alone matches all; a
/// name matches itself and its subdomains, "example.com" and ".example.com" alike; an IP address matches
/// an equal address or a CIDR range "a.b.c.d/n", "::1/64"; case-insensitive).
bool no_proxy_matches(std::string_view host, std::string_view list);

/// The outcome of proxy selection for one target.
struct proxy_choice {
    std::optional<proxy_endpoint> proxy; ///< empty: direct
    /// Why: "-x/--proxy" ("options"), the environment variable it came from, or why none is used
    /// ("no proxy configured", "host matches no_proxy (from NO_PROXY)").
    std::string reason;
};

/// Reads an environment variable: nullptr when unset. The default reads the process environment.
using getenv_fn = std::function<const char*(const char*)>;

/// Proxy selection for a target, as described for proxy_options. `getenv` is read only when
/// `options.from_environment` is set. An unparsable proxy URL is reported as error::invalid_proxy.
boost::system::result<proxy_choice> select_proxy(const proxy_options& options, bool https_target,
                                                 std::string_view host, const getenv_fn& getenv = {});

} // namespace edgeloop::http
