#pragma once

#include <chrono>
#include <cstdint>

namespace edgeloop::gpio {

/// Direction of a change of a line's *logical* level: active-low is already undone, so `rising` always
/// means "became active" (a button pressed, an LED lit) whatever the electrical polarity.
enum class edge { rising, falling };

/// "rising" or "falling".
const char* to_string(edge e) noexcept;

/// One change of an input line, as a driver saw it.
struct edge_event {
    using clock = std::chrono::steady_clock;

    /// Line offset on its chip (the sim driver uses the definition's line number).
    std::uint32_t line = 0;
    gpio::edge edge = gpio::edge::rising;
    /// When the change happened, on the monotonic clock (the kernel's timestamp for the Linux driver,
    /// which is CLOCK_MONOTONIC like steady_clock), not when it was read.
    clock::time_point timestamp{};
    /// Per-line sequence number assigned by the source; consecutive unless events were lost.
    std::uint64_t sequence = 0;
    /// Events lost just before this one (kernel event buffer overflow, or the input's own queue full).
    /// The input's level has been re-read where the driver can, so active() is right again.
    std::uint64_t lost = 0;

    /// A press (or switch-on): the line became active.
    bool pressed() const noexcept { return edge == gpio::edge::rising; }
};

} // namespace edgeloop::gpio
