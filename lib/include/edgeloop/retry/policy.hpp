#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace edgeloop::retry {

/// Value of policy::max_attempts that never runs out. backoffAlgorithm spells it 0; we use the largest
/// value instead so that 0 keeps its plain meaning (no retry at all) and no count is taken away.
inline constexpr std::uint32_t retry_forever = std::numeric_limits<std::uint32_t>::max();

/// Parameters of full-jitter exponential backoff (backoffAlgorithm). The defaults are those of the
/// coreHTTP mutual-auth demo: retry 5 times, windows [0,500], [0,1000], [0,2000], [0,4000], [0,5000] ms.
struct policy {
    /// Upper bound of the first delay.
    std::chrono::milliseconds base{500};
    /// Largest upper bound a delay window grows to.
    std::chrono::milliseconds max{5000};
    /// Retries allowed after the first try (backoffAlgorithm's maxRetryAttempts): the operation runs at
    /// most max_attempts + 1 times. retry_forever: no limit.
    std::uint32_t max_attempts = 5;
};

} // namespace edgeloop::retry
