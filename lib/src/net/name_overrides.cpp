#include <edgeloop/net/allowlist.hpp>
#include <edgeloop/net/name_overrides.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace edgeloop::net {

namespace {

/// The next ':'-separated field of `rest` (a bracketed IPv6 literal keeps its colons and loses its
/// brackets); `rest` moves past it and its colon. False: an unterminated bracket.
bool next_field(std::string_view& rest, std::string_view& field, bool& last) {
    std::size_t end = 0;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
            return false;
        field = rest.substr(1, close - 1);
        end = close + 1;
        if (end < rest.size() && rest[end] != ':')
            return false;
    } else {
        end = std::min(rest.find(':'), rest.size());
        field = rest.substr(0, end);
    }
    last = end >= rest.size();
    rest = last ? std::string_view() : rest.substr(end + 1);
    return true;
}

[[noreturn]] void bad(const char* option, std::string_view entry, const std::string& why) {
    throw std::invalid_argument(std::string(option) + " '" + std::string(entry) + "': " + why);
}

std::optional<std::uint16_t> parse_port(const char* option, std::string_view entry, std::string_view text) {
    unsigned value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size() || value == 0 ||
        value > 65535)
        bad(option, entry,
            std::string("'").append(text).append("' is not a port (1-65535)")); // GCC bug 105651
    return static_cast<std::uint16_t>(value);
}

bool same_host(const std::string& normalised, std::string_view host) {
    if (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    if (normalised.size() != host.size())
        return false;
    for (std::size_t i = 0; i < host.size(); ++i)
        if (normalised[i] != static_cast<char>(std::tolower(static_cast<unsigned char>(host[i]))))
            return false;
    return true;
}

} // namespace

name_overrides::name_overrides(const std::vector<std::string>& connect_to,
                               const std::vector<std::string>& resolve) {
    for (const std::string& entry : connect_to) {
        constexpr const char* option = "--connect-to";
        std::string_view rest = entry;
        std::string_view f[4];
        bool last = false;
        for (int i = 0; i < 4; ++i) {
            if ((i > 0 && last) || !next_field(rest, f[i], last))
                bad(option, entry, "expected HOST1:PORT1:HOST2:PORT2");
        }
        if (!last)
            bad(option, entry, "expected HOST1:PORT1:HOST2:PORT2");
        redirect r;
        r.from_host = allowlist::normalise(f[0]);
        if (!f[1].empty())
            r.from_port = parse_port(option, entry, f[1]);
        r.to_host = allowlist::normalise(f[2]);
        if (!f[3].empty())
            r.to_port = parse_port(option, entry, f[3]);
        connect_to_.push_back(std::move(r));
    }
    for (const std::string& entry : resolve) {
        constexpr const char* option = "--resolve";
        std::string_view rest = entry;
        if (!rest.empty() && rest.front() == '+')
            rest.remove_prefix(1);
        if (!rest.empty() && rest.front() == '-')
            bad(option, entry, "removing an entry ('-HOST:PORT') is not supported");
        std::string_view host, port;
        bool last = false;
        if (!next_field(rest, host, last) || last || !next_field(rest, port, last) || last || host.empty())
            bad(option, entry, "expected HOST:PORT:ADDRESS[,ADDRESS]...");
        fixed fx;
        fx.host = allowlist::normalise(host);
        fx.port = *parse_port(option, entry, port);
        while (true) {
            const auto comma = std::min(rest.find(','), rest.size());
            std::string_view text = rest.substr(0, comma);
            if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
                text = text.substr(1, text.size() - 2);
            boost::system::error_code ec;
            const auto addr = boost::asio::ip::make_address(std::string(text), ec);
            if (ec)
                bad(option, entry, std::string("'").append(text).append("' is not an IP address"));
            fx.addresses.push_back(addr);
            if (comma >= rest.size())
                break;
            rest = rest.substr(comma + 1);
        }
        resolve_.push_back(std::move(fx));
    }
}

name_overrides::route name_overrides::connect_to(std::string_view host, std::uint16_t port) const {
    for (const redirect& r : connect_to_) {
        if ((r.from_host.empty() || same_host(r.from_host, host)) && (!r.from_port || *r.from_port == port))
            return {r.to_host.empty() ? host : std::string_view(r.to_host), r.to_port.value_or(port)};
    }
    return {host, port};
}

const std::vector<boost::asio::ip::address>* name_overrides::resolve(std::string_view host,
                                                                     std::uint16_t port) const {
    for (const fixed& f : resolve_)
        if (f.port == port && (f.host == "*" || same_host(f.host, host)))
            return &f.addresses;
    return nullptr;
}

} // namespace edgeloop::net
