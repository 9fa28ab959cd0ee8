#include <edgeloop/http/error.hpp>
#include <edgeloop/http/url.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace edgeloop::http {

namespace urls = boost::urls;

std::string url_parts::authority() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    out += ':';
    out += std::to_string(port);
    return out;
}

std::string url_parts::host_header() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80)) {
        out += ':';
        out += std::to_string(port);
    }
    return out;
}

std::string url_parts::tls_name() const {
    if (!host_is_ip && host.size() > 1 && host.back() == '.')
        return host.substr(0, host.size() - 1);
    return host;
}

boost::system::result<url_parts> parse_url(std::string_view text) {
    auto parsed = urls::parse_uri(text);
    if (!parsed)
        return make_error_code(error::invalid_url);
    const urls::url_view& u = *parsed;

    url_parts out;
    if (u.scheme_id() == urls::scheme::https)
        out.tls = true;
    else if (u.scheme_id() != urls::scheme::http)
        return make_error_code(error::unsupported_scheme);

    switch (u.host_type()) {
    case urls::host_type::name: {
        out.host = u.encoded_host().decode();
        // Percent-encoding can spell an IP literal ("1.0%2e0.1", "%3a%3a1"): treat it as the address it
        // is, so that host_is_ip (certificate check, SNI) and the allowlist agree. Decoded bytes that no
        // host name has (controls, space, delimiters) would end up in the Host header: refuse them.
        boost::system::error_code not_ip;
        if (const auto addr = boost::asio::ip::make_address(out.host, not_ip); !not_ip) {
            out.host = addr.to_string();
            out.host_is_ip = true;
        } else if (std::any_of(out.host.begin(), out.host.end(), [](unsigned char c) {
                       return c <= 0x20 || c == 0x7f ||
                              std::string_view("/\\?#@[]:%").find(c) != std::string_view::npos;
                   })) {
            return make_error_code(error::invalid_url);
        }
        break;
    }
    case urls::host_type::ipv4:
        out.host = u.host_ipv4_address().to_string();
        out.host_is_ip = true;
        break;
    case urls::host_type::ipv6:
        out.host = u.host_ipv6_address().to_string();
        out.host_is_ip = true;
        break;
    default: // IPvFuture, or no host at all
        return make_error_code(error::invalid_url);
    }
    if (out.host.empty())
        return make_error_code(error::invalid_url);
    std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

    if (u.has_port()) {
        // port_number() wraps values over 65535, so check the digits themselves.
        const auto digits = u.port();
        unsigned long port = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port == 0 ||
            port > 65535)
            return make_error_code(error::invalid_url);
        out.port = static_cast<std::uint16_t>(port);
    } else {
        out.port = out.tls ? 443 : 80;
    }

    // Boost.URL 1.81 accepts some authorities followed by a path without its leading '/':
    // "http://127.0.0.1./" as host 127.0.0.1 and path "./", "http://a@b.com@c.com/" as host b.com and
    // path "@c.com/". Such a URL does not name the host it seems to: refuse it.
    if (!u.encoded_path().empty() && u.encoded_path().front() != '/')
        return make_error_code(error::invalid_url);
    out.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) {
        out.target += '?';
        out.target += u.encoded_query();
    }
    return out;
}

} // namespace edgeloop::http
