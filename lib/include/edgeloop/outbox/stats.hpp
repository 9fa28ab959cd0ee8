#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgeloop::outbox {

/// The queue's state, as `aws_post --status` prints it.
struct stats {
    std::uint64_t depth = 0; ///< messages waiting (the one being sent included)
    std::uint64_t bytes = 0; ///< their size as the quota counts it
    /// Enqueue time of the oldest waiting message; none when empty.
    std::optional<std::chrono::system_clock::time_point> oldest;
    std::uint64_t dead_letters = 0;
    std::uint64_t dropped = 0; ///< messages dropped by full_policy::drop_oldest, ever
};

} // namespace edgeloop::outbox
