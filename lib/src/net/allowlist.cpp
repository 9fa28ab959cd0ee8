#include <edgeloop/net/allowlist.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace edgeloop::net {

namespace {

/// Canonical text of an IP literal, or "" when `text` is not one (inet_pton rules: no "127.1" shorthand).
std::string canonical_ip(std::string_view text) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(std::string(text), ec);
    return ec ? std::string() : addr.to_string();
}

} // namespace

std::string allowlist::normalise(std::string_view host) {
    std::string out(host);
    if (!out.empty() && out.back() == '.')
        out.pop_back();
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

allowlist::allowlist(const std::vector<std::string>& entries) {
    for (const auto& raw : entries) {
        std::string e = normalise(raw);
        if (e.size() >= 2 && e.front() == '[' && e.back() == ']')
            e = e.substr(1, e.size() - 2);
        if (e.empty())
            throw std::invalid_argument("allowlist: empty entry");
        if (auto ip = canonical_ip(e); !ip.empty()) {
            ips_.push_back(ip);
        } else if (e.rfind("*.", 0) == 0) {
            if (e.size() == 2 || e.find('*', 1) != std::string::npos)
                throw std::invalid_argument("allowlist: bad pattern '" + raw + "'");
            suffixes_.push_back(e.substr(1));
        } else if (e.find('*') != std::string::npos) {
            throw std::invalid_argument("allowlist: wildcards only as a leading '*.' in '" + raw + "'");
        } else {
            names_.push_back(e);
        }
    }
}

bool allowlist::allows(std::string_view host) const {
    if (empty())
        return true;
    if (auto ip = canonical_ip(host); !ip.empty())
        return std::find(ips_.begin(), ips_.end(), ip) != ips_.end();
    const std::string h = normalise(host);
    if (h.empty())
        return false;
    if (std::find(names_.begin(), names_.end(), h) != names_.end())
        return true;
    return std::any_of(suffixes_.begin(), suffixes_.end(), [&](const std::string& s) {
        return h.size() > s.size() && h.compare(h.size() - s.size(), s.size(), s) == 0;
    });
}

} // namespace edgeloop::net
