#pragma once

#include <edgeloop/outbox/message.hpp>

#include <chrono>
#include <string>

namespace edgeloop::outbox {

/// A message that will not be sent: the server refused it for good (a non-retryable status such as
/// 400, 403 or 413), it could not be built, or it outlived the TTL.
struct dead_letter {
    message msg;
    /// The HTTP status that refused it; 0 when there was none (expired, a request that could not be built).
    unsigned status = 0;
    std::string reason;
    std::chrono::system_clock::time_point dead_at{};
};

} // namespace edgeloop::outbox
