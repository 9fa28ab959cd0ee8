#pragma once

#include <chrono>
#include <cstdint>

namespace edgeloop::gpio {

/// The schedule of a periodic timer, without I/O: tick k is due at start + k * period, an absolute
/// deadline, so lateness never accumulates into drift (re-arming "period from now" would add each
/// tick's lateness to every later one). A tick fired later than the next deadline skips the deadlines
/// already past instead of firing them in a burst.
class tick_schedule {
public:
    using clock = std::chrono::steady_clock;

    /// What happened when a tick fired.
    struct fired {
        std::uint64_t index = 0;      ///< k of the tick that fired (1 = the first)
        clock::time_point deadline{}; ///< start + k * period
        clock::duration lateness{};   ///< now - deadline (never negative)
        std::uint64_t skipped = 0;    ///< deadlines passed over after this one because it fired so late
    };

    tick_schedule(clock::time_point start, clock::duration period) noexcept
        : start_(start)
        , period_(period.count() > 0 ? period : clock::duration(1)) {}

    clock::time_point start() const noexcept { return start_; }
    clock::duration period() const noexcept { return period_; }
    /// Index of the next tick due.
    std::uint64_t next_index() const noexcept { return next_; }
    /// When the next tick is due.
    clock::time_point deadline() const noexcept { return deadline_of(next_); }
    clock::time_point deadline_of(std::uint64_t index) const noexcept {
        return start_ + period_ * static_cast<clock::rep>(index);
    }

    /// Records that the due tick fired at `now` (a timer fired early counts as on time) and moves on to
    /// the first deadline after `now`.
    fired fire(clock::time_point now) noexcept;

private:
    clock::time_point start_;
    clock::duration period_;
    std::uint64_t next_ = 1;
};

} // namespace edgeloop::gpio
