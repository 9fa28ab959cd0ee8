#pragma once

#include <edgeloop/retry/policy.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace edgeloop::retry {

/// Where backoff draws its jitter from: any source of uniformly distributed 32-bit values.
using random_source = std::function<std::uint32_t()>;

/// A std::mt19937 seeded from std::random_device (the kernel's entropy), so that gateways that lost
/// their uplink together do not retry in lock step, which is the whole point of jitter. Seeded on the
/// first draw (seeding is costly, and most sources never draw); copies share the engine.
random_source default_random_source();

/// Full-jitter exponential backoff, sans-io: exactly backoffAlgorithm's BackoffAlgorithm_GetNextBackoff.
/// The window starts at policy::base; each delay is `random % (window + 1)` ms, after which the window
/// doubles while it stays below policy::max / 2, else becomes policy::max. After policy::max_attempts
/// delays it is exhausted. It never waits: the caller arms a timer with the delay.
class backoff {
public:
    /// Draws from default_random_source().
    explicit backoff(policy p = {});
    /// Draws from `random`, which must not be empty (tests pass a scripted sequence).
    backoff(policy p, random_source random);

    /// The delay before the next retry, or nullopt when the retries are exhausted. A server-requested
    /// delay (Retry-After) wins when it is longer than the jitter, cut to max_retry_after() first (one
    /// response must not park the caller for hours: Retry-After may say up to 2^31 s); the retry still
    /// counts as an attempt.
    [[nodiscard]] std::optional<std::chrono::milliseconds>
    next_backoff(std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

    /// next_backoff() with the random value supplied by the caller instead of the source.
    [[nodiscard]] std::optional<std::chrono::milliseconds>
    next_backoff_from(std::uint32_t random_value,
                      std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

    /// Longest server-requested delay honoured; a longer Retry-After waits this long instead. Defaults
    /// to policy::max, the longest delay the backoff itself would wait.
    std::chrono::milliseconds max_retry_after() const noexcept { return max_retry_after_; }
    /// Sets max_retry_after() (a negative value counts as zero).
    void set_max_retry_after(std::chrono::milliseconds cap) noexcept;

    /// Delays handed out so far (saturates instead of wrapping under retry_forever).
    std::uint32_t attempts() const noexcept { return attempts_; }
    /// Upper bound of the next delay: it is drawn from [0, next_window()].
    std::chrono::milliseconds next_window() const noexcept { return window_; }
    /// True when next_backoff() would return nullopt.
    bool exhausted() const noexcept;
    const policy& get_policy() const noexcept { return policy_; }

    /// Starts over (attempts 0, window base), as after a success.
    void reset() noexcept;

private:
    policy policy_;
    random_source random_;
    std::chrono::milliseconds window_;
    std::chrono::milliseconds max_retry_after_;
    std::uint32_t attempts_ = 0;
};

} // namespace edgeloop::retry
