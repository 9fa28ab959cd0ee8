#pragma once

#include <edgeloop/retry/backoff.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace edgeloop::retry {

/// How async_retry decides, and what it tells the application. Every member is optional.
struct retry_options {
    /// Whether a failed attempt is worth retrying. Empty: every error except operation_aborted (which
    /// means someone stopped the work on purpose). A non-retryable error ends async_retry with that error.
    std::function<bool(const boost::system::error_code&)> retryable;

    /// Called before each wait with the number of the attempt that failed (1-based), the delay before
    /// the next one and the failure, e.g. to print "attempt 2 failed (...), retrying in 730 ms". The delay
    /// is shorter than what retry_after returned exactly when max_retry_after cut it.
    std::function<void(std::uint32_t attempt, std::chrono::milliseconds delay,
                       const boost::system::error_code& last_error)>
        on_retry;

    /// Asked after a retryable failure for the delay the server requested (a Retry-After header the
    /// operation recorded, see parse_retry_after); honoured when longer than the jitter delay, up to
    /// max_retry_after.
    std::function<std::optional<std::chrono::milliseconds>(const boost::system::error_code&)> retry_after;

    /// Longest server-requested delay honoured: a longer Retry-After (which may say up to 2^31 s) waits
    /// this long instead, so that one response cannot park the operation for years. Empty: policy::max,
    /// the longest delay the backoff itself waits.
    std::optional<std::chrono::milliseconds> max_retry_after;

    /// Jitter source. Empty: default_random_source().
    random_source random;
};

} // namespace edgeloop::retry
