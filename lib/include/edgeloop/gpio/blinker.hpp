#pragma once

#include <edgeloop/gpio/output.hpp>
#include <edgeloop/gpio/tick_schedule.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgeloop::gpio {

/// Blinks an output on an Asio timer: off at start(), then toggled at every period, each toggle due at
/// start + k * period (tick_schedule) so the rate does not drift however late single toggles are.
/// Tick k sets the LED to "on" for odd k, so a skipped deadline (the loop was busy for more than a
/// period) keeps the phase. Every toggle's lateness is recorded for the application to report.
///
/// The output must outlive the blinker. Use it from its executor.
class blinker {
public:
    using clock = tick_schedule::clock;

    /// One toggle.
    struct tick {
        std::uint64_t index = 0;      ///< k: due at started_at() + k * period
        clock::time_point deadline{}; ///< when it was due
        clock::duration lateness{};   ///< how late the timer fired
        std::uint64_t skipped = 0;    ///< deadlines passed over after this one because it was so late
    };

    /// Lateness of the toggles so far. min, max, toggles and skipped cover the whole run; median and
    /// p99 (nearest rank) cover the most recent `history` toggles (all of them on runs shorter than that).
    struct statistics {
        std::uint64_t toggles = 0;
        std::uint64_t skipped = 0;
        clock::duration min{};
        clock::duration median{};
        clock::duration p99{};
        clock::duration max{};
    };

    static constexpr std::size_t default_history = 4096;

    blinker(boost::asio::any_io_executor ex, output& out,
            clock::duration period = std::chrono::milliseconds(500), std::size_t history = default_history);
    blinker(const blinker&) = delete;
    blinker& operator=(const blinker&) = delete;
    /// Stops the timer; leaves the output as it is.
    ~blinker();

    /// Sets the output off and starts toggling; a running blinker restarts (statistics are kept).
    void start();
    /// Stops toggling and, when `off`, turns the output off. The pending timer completes as cancelled.
    void stop(bool off = true);
    bool running() const noexcept;

    clock::duration period() const noexcept;
    /// When start() was last called (tick k is due at started_at() + k * period).
    clock::time_point started_at() const noexcept;
    /// The most recent toggles, oldest first (at most `history`).
    std::vector<tick> history() const;
    statistics lateness() const;
    /// One line for logs: "LED1 blinker: 120 toggles every 500 ms (0 skipped); lateness min 0.052 ms,
    /// median 0.110 ms, p99 0.402 ms, max 1.205 ms".
    std::string report() const;

    /// Statistics of a set of lateness samples (what lateness() applies to the recent toggles).
    static statistics summarize(std::vector<clock::duration> lateness);

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace edgeloop::gpio
