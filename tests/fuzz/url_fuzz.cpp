// url_fuzz: http::parse_url and net::allowlist. Input lines: URL, then allowlist entries.
// Invariants: a parsed URL has a non-empty lower-case host, a port, an origin-form target and re-parses
// to the same parts; an allowlist of the URL's host alone allows it (also written in upper case with a
// trailing dot); an IP-literal host is allowed exactly when an IP entry names the same address.

#include "fuzz_check.hpp"

#include <edgeloop/http/url.hpp>
#include <edgeloop/net/allowlist.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace {

using edgeloop::http::parse_url;
using edgeloop::net::allowlist;

std::optional<boost::asio::ip::address> ip_of(std::string_view text) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(text), ec);
    if (ec)
        return std::nullopt;
    return a;
}

std::optional<allowlist> make_list(const std::vector<std::string>& entries) {
    try {
        return allowlist(entries);
    } catch (const std::invalid_argument&) {
        return std::nullopt;
    }
}

bool plain_name(std::string_view h) {
    return !h.empty() && std::all_of(h.begin(), h.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

/// What the allowlist documents for an IP-literal host: allowed iff an entry is the same address.
bool ip_allowed_by_spec(const boost::asio::ip::address& host, const std::vector<std::string>& entries) {
    for (const auto& raw : entries) {
        std::string e = allowlist::normalise(raw);
        if (e.size() >= 2 && e.front() == '[' && e.back() == ']')
            e = e.substr(1, e.size() - 2);
        if (auto a = ip_of(e); a && *a == host)
            return true;
    }
    return false;
}

void check_url(const std::string& text, const std::vector<std::string>& entries) {
    const auto parsed = parse_url(text);
    if (!parsed)
        return;
    const auto& u = *parsed;
    FUZZ_CHECK(!u.host.empty());
    FUZZ_CHECK(
        std::none_of(u.host.begin(), u.host.end(), [](unsigned char c) { return c >= 'A' && c <= 'Z'; }));
    FUZZ_CHECK(
        std::none_of(u.host.begin(), u.host.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; }));
    FUZZ_CHECK(u.host_is_ip == ip_of(u.host).has_value());
    FUZZ_CHECK(u.port != 0);
    FUZZ_CHECK(!u.target.empty() && u.target.front() == '/');
    const auto authority = u.authority();
    FUZZ_CHECK(authority.size() > u.host.size());
    (void)u.host_header();

    if (u.host_is_ip || plain_name(u.host)) {
        // Re-parse from the parts: same host, port, target. (It may be refused: Boost.URL 1.81 reads a
        // name like "1.0.0.10.1" as the IPv4 address 1.0.0.10 followed by a path ".1", which parse_url
        // rejects; only an encoded dot gets such a name through.)
        const auto again = parse_url(std::string(u.tls ? "https://" : "http://") + authority + u.target);
        if (again)
            FUZZ_CHECK(again->host == u.host && again->port == u.port && again->target == u.target &&
                       again->tls == u.tls && again->host_is_ip == u.host_is_ip);
    }

    // The URL's own host as the only entry.
    // (A name that is an IP literal but for its trailing dot, "127.0.0.1.", is not an IP host, while its
    // entry is an IP entry: the list denies it, the safe side. Not checked here.)
    if (u.host.find('*') == std::string::npos && (u.host_is_ip || !ip_of(allowlist::normalise(u.host)))) {
        if (auto own = make_list({u.host})) {
            FUZZ_CHECK(own->allows(u.host));
            if (!u.host_is_ip && u.host.back() != '.' && !ip_of(u.host))
                FUZZ_CHECK(own->allows(upper(u.host) + "."));
        }
    }

    if (auto list = make_list(entries)) {
        const bool allowed = list->allows(u.host);
        if (list->empty())
            FUZZ_CHECK(allowed);
        else if (auto ip = ip_of(u.host))
            FUZZ_CHECK(allowed == ip_allowed_by_spec(*ip, entries));
    }
}

void check_entries(const std::vector<std::string>& entries) {
    const auto list = make_list(entries);
    if (!list)
        return;
    FUZZ_CHECK(list->empty() == entries.empty());
    for (const auto& raw : entries) {
        const std::string e = allowlist::normalise(raw);
        if (e.rfind("*.", 0) == 0 && e.back() != '.') {
            // A pattern allows names below it, never its own suffix alone.
            const std::string below = "x" + e.substr(1);
            if (!ip_of(below))
                FUZZ_CHECK(list->allows(below));
        } else if (e.rfind("*.", 0) != 0 && !e.empty() && e.front() != '[' && !ip_of(e) && e.back() != '.') {
            FUZZ_CHECK(list->allows(e));
            FUZZ_CHECK(list->allows(upper(e) + "."));
        }
        if (auto ip = ip_of(e))
            FUZZ_CHECK(list->allows(ip->to_string()));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto lines = fuzz::split(fuzz::as_text(data, size), '\n');
    const std::string url = lines.front();
    std::vector<std::string> entries(lines.begin() + 1, lines.end());
    check_url(url, entries);
    check_entries(entries);
    return 0;
}
