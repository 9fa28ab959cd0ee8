#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace edgeloop::http {

/// Per-phase deadlines. Each failure has its own error code (resolve_timeout, connect_timeout, ...).
/// A zero duration turns that deadline off.
struct timeouts {
    std::chrono::milliseconds resolve{std::chrono::seconds(10)};
    std::chrono::milliseconds connect{std::chrono::seconds(10)};
    std::chrono::milliseconds handshake{std::chrono::seconds(10)};
    std::chrono::milliseconds write{std::chrono::seconds(30)};
    /// From the end of the request to the end of the response head.
    std::chrono::milliseconds response_head{std::chrono::seconds(30)};
    /// Longest wait for the next body bytes.
    std::chrono::milliseconds idle{std::chrono::seconds(30)};
    /// Whole transfer; off by default, as in curl.
    std::chrono::milliseconds total{0};
};

/// Size limits, each with its own error (header_too_large, body_too_large).
struct limits {
    std::uint32_t max_header_bytes = 64 * 1024;
    std::uint64_t max_body_bytes = std::numeric_limits<std::uint64_t>::max();
    /// Size of the buffer body bytes are read into and handed to on_body from (one per transfer).
    std::size_t body_chunk_bytes = 16 * 1024;
};

struct client_options {
    http::timeouts timeouts;
    http::limits limits;
    std::string user_agent = "edgeloop/0.1";
};

} // namespace edgeloop::http
