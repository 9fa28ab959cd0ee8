#include <edgeloop/http/response.hpp>

#include <algorithm>
#include <cctype>

namespace edgeloop::http {

std::string_view response_head::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    }
    return {};
}

std::string describe(const boost::system::error_code& ec, const transfer_info& info) {
    if (!ec)
        return "ok";
    std::string out = info.peer.empty() ? info.url : info.peer;
    out += ": ";
    out += ec.message();
    if (!info.detail.empty()) {
        out += " (";
        out += info.detail;
        out += ')';
    }
    return out;
}

} // namespace edgeloop::http
