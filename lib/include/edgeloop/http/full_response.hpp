#pragma once

#include <edgeloop/http/response.hpp>

#include <string>
#include <string_view>

namespace edgeloop::http {

/// A whole response in memory, as client::async_get delivers it: status line, header fields and body,
/// with what the transfer reports.
struct response {
    response_head head; ///< status, version, reason, header fields
    std::string body;
    transfer_info info;

    unsigned status() const noexcept { return head.status; }
    /// First value of a header (case-insensitive name), empty when absent.
    std::string_view header(std::string_view name) const noexcept { return head.header(name); }
};

} // namespace edgeloop::http
