#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace edgeloop::retry {

/// What async_retry did, whatever its outcome.
struct result {
    /// Times the operation was started (1 when the first try succeeded).
    std::uint32_t attempts = 0;
    /// Error of the last failed attempt; empty when no attempt failed.
    boost::system::error_code last_error;
    /// Delays waited (or being waited when cancelled) before each retry, in order, Retry-After included.
    std::vector<std::chrono::milliseconds> delays;
};

} // namespace edgeloop::retry
