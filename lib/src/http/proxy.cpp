#include <edgeloop/http/error.hpp>
#include <edgeloop/http/proxy.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace edgeloop::http {

namespace {

namespace urls = boost::urls;

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

/// `host` without IPv6 brackets and without the trailing dot of an absolute name.
std::string_view bare_host(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        return host.substr(1, host.size() - 2);
    if (host.size() > 1 && host.back() == '.')
        host.remove_suffix(1);
    return host;
}

std::optional<boost::asio::ip::address> as_ip(std::string_view s) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(s), ec);
    if (ec)
        return std::nullopt;
    return a;
}

/// The first `bits` bits of the two addresses (same family) are equal.
bool same_prefix(const boost::asio::ip::address& a, const boost::asio::ip::address& b, unsigned bits) {
    if (a.is_v4() != b.is_v4())
        return false;
    if (a.is_v4()) {
        if (bits > 32)
            return false;
        const auto x = a.to_v4().to_uint();
        const auto y = b.to_v4().to_uint();
        const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
        return (x & mask) == (y & mask);
    }
    if (bits > 128)
        return false;
    const auto x = a.to_v6().to_bytes();
    const auto y = b.to_v6().to_bytes();
    unsigned left = bits;
    for (std::size_t i = 0; i < x.size() && left > 0; ++i) {
        const unsigned take = std::min(left, 8u);
        const auto mask = static_cast<unsigned char>(0xffu << (8 - take));
        if ((x[i] & mask) != (y[i] & mask))
            return false;
        left -= take;
    }
    return true;
}

/// One no_proxy entry against the host.
bool entry_matches(std::string_view host, const std::optional<boost::asio::ip::address>& host_ip,
                   std::string_view entry) {
    if (host_ip) {
        // An IP address matches an equal address or a CIDR range, never a name.
        std::string_view addr = entry;
        unsigned bits = host_ip->is_v4() ? 32 : 128;
        if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
            addr = entry.substr(0, slash);
            const auto digits = entry.substr(slash + 1);
            const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
            if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size())
                return false;
            if (bits == 0) // as curl: "/0" compares the whole address
                bits = host_ip->is_v4() ? 32 : 128;
        }
        const auto ip = as_ip(bare_host(addr));
        return ip && same_prefix(*host_ip, *ip, bits);
    }
    // A name: "example.com" and ".example.com" match example.com and its subdomains.
    if (!entry.empty() && entry.front() == '.')
        entry.remove_prefix(1);
    if (entry.size() > 1 && entry.back() == '.')
        entry.remove_suffix(1);
    if (entry.empty())
        return false;
    if (entry.size() == host.size())
        return iequal(entry, host);
    if (entry.size() < host.size())
        return host[host.size() - entry.size() - 1] == '.' &&
               iequal(host.substr(host.size() - entry.size()), entry);
    return false;
}

std::string decode(urls::pct_string_view s) {
    return s.decode();
}

} // namespace

std::string proxy_endpoint::authority() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return out + ':' + std::to_string(port);
}

std::string proxy_endpoint::display() const {
    switch (scheme) {
    case proxy_scheme::socks5:
        return "socks5://" + authority();
    case proxy_scheme::socks5h:
        return "socks5h://" + authority();
    case proxy_scheme::https:
        return "https://" + authority();
    case proxy_scheme::http:
        break;
    }
    return "http://" + authority();
}

boost::system::result<proxy_endpoint> parse_proxy_url(std::string_view text) {
    std::string with_scheme;
    if (text.find("://") == std::string_view::npos) {
        with_scheme = "http://" + std::string(text); // curl: a proxy without scheme is http://
        text = with_scheme;
    }
    auto parsed = urls::parse_uri(text);
    if (!parsed)
        return make_error_code(error::invalid_proxy);
    const urls::url_view& u = *parsed;
    proxy_endpoint out;
    if (u.scheme_id() == urls::scheme::http)
        out.scheme = proxy_scheme::http;
    else if (u.scheme_id() == urls::scheme::https) {
        out.scheme = proxy_scheme::https;
        out.port = 443; // curl's default for an HTTPS proxy
    } else if (iequal(u.scheme(), "socks5"))
        out.scheme = proxy_scheme::socks5;
    else if (iequal(u.scheme(), "socks5h"))
        out.scheme = proxy_scheme::socks5h;
    else
        return make_error_code(error::invalid_proxy);
    if (!u.has_authority() || u.encoded_host().empty())
        return make_error_code(error::invalid_proxy);
    if (!u.encoded_path().empty() && u.encoded_path() != "/")
        return make_error_code(error::invalid_proxy);
    if (u.has_query() || u.has_fragment())
        return make_error_code(error::invalid_proxy);
    out.host = u.host_type() == urls::host_type::ipv6 ? std::string(u.host_address())
                                                      : decode(u.encoded_host_address());
    std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (u.has_port()) {
        if (u.port().empty() || u.port_number() == 0)
            return make_error_code(error::invalid_proxy);
        out.port = u.port_number();
    }
    if (u.has_userinfo()) {
        out.user = decode(u.encoded_user());
        out.password = decode(u.encoded_password());
        out.has_credentials = true;
    }
    return out;
}

bool no_proxy_matches(std::string_view host, std::string_view list) {
    host = bare_host(host);
    if (host.empty())
        return false;
    const auto host_ip = as_ip(host);
    constexpr std::string_view separators = ", \t";
    std::size_t at = 0;
    while (at < list.size()) {
        const auto begin = list.find_first_not_of(separators, at);
        if (begin == std::string_view::npos)
            break;
        auto end = list.find_first_of(separators, begin);
        if (end == std::string_view::npos)
            end = list.size();
        const auto entry = list.substr(begin, end - begin);
        if (entry == "*")
            return true;
        if (entry_matches(host, host_ip, entry))
            return true;
        at = end;
    }
    return false;
}

boost::system::result<proxy_choice> select_proxy(const proxy_options& options, bool https_target,
                                                 std::string_view host, const getenv_fn& getenv) {
    const auto env = [&](const char* name) -> const char* {
        if (!options.from_environment)
            return nullptr;
        const char* v = getenv ? getenv(name) : std::getenv(name);
        return v != nullptr && *v != '\0' ? v : nullptr;
    };
    proxy_choice out;
    std::string url = options.url;
    std::string from = "-x/--proxy";
    if (url.empty()) {
        // curl: https_proxy/HTTPS_PROXY for https, http_proxy (lower case only) for http, then all_proxy.
        const std::array<const char*, 2> own = https_target
                                                   ? std::array<const char*, 2>{"https_proxy", "HTTPS_PROXY"}
                                                   : std::array<const char*, 2>{"http_proxy", nullptr};
        for (const char* name : {own[0], own[1], "all_proxy", "ALL_PROXY"}) {
            if (name == nullptr)
                continue;
            if (const char* v = env(name)) {
                url = v;
                from = name;
                break;
            }
        }
    }
    if (url.empty()) {
        out.reason = "no proxy configured";
        return out;
    }
    std::string no_proxy;
    std::string no_proxy_from = "--noproxy";
    if (options.no_proxy)
        no_proxy = *options.no_proxy;
    else if (const char* v = env("no_proxy")) {
        no_proxy = v;
        no_proxy_from = "no_proxy";
    } else if (const char* V = env("NO_PROXY")) {
        no_proxy = V;
        no_proxy_from = "NO_PROXY";
    }
    if (!no_proxy.empty() && no_proxy_matches(host, no_proxy)) {
        out.reason = "no proxy: " + std::string(host) + " matches " + no_proxy_from;
        return out;
    }
    auto endpoint = parse_proxy_url(url);
    if (!endpoint)
        return endpoint.error();
    if (!options.credentials.empty()) {
        const auto colon = options.credentials.find(':');
        endpoint->user = options.credentials.substr(0, colon);
        endpoint->password =
            colon == std::string::npos ? std::string() : options.credentials.substr(colon + 1);
        endpoint->has_credentials = true;
    }
    out.reason = "proxy " + endpoint->display() + " from " + from;
    out.proxy = std::move(*endpoint);
    return out;
}

} // namespace edgeloop::http
