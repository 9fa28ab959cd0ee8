#pragma once

#include <edgeloop/gpio/edge_event.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgeloop::gpio {

/// Turns the raw, bouncing edges of a contact into clean presses and releases, without I/O: for drivers
/// whose kernel cannot debounce. Time only advances through the timestamps fed and the `now` polled.
///
/// A raw edge opens (or extends) a burst; once no raw edge has come for `settle`, the burst is over and
/// the raw level it ended on is compared with the clean level: if it differs, one clean edge is
/// reported, stamped with the burst's first raw edge (when the user actually pressed). A burst that ends
/// where it began (a glitch) reports nothing. The trailing edge of a burst is never dropped, but it can
/// only be reported once its window has passed: after feed(), call poll() at deadline() (a timer).
class debouncer {
public:
    using clock = edge_event::clock;

    explicit debouncer(clock::duration settle, bool initially_active = false) noexcept
        : settle_(settle)
        , stable_(initially_active)
        , raw_(initially_active) {}

    /// Feeds one raw edge (timestamps must not go backwards). Returns the clean edge of the previous
    /// burst if that burst had already settled before this edge.
    std::optional<edge_event> feed(const edge_event& raw);

    /// Returns the clean edge of the current burst if it has settled by `now`.
    std::optional<edge_event> poll(clock::time_point now);

    /// When the current burst settles (call poll() then); nullopt when no burst is open.
    std::optional<clock::time_point> deadline() const noexcept;

    /// The clean level: true while pressed.
    bool active() const noexcept { return stable_; }

    clock::duration settle() const noexcept { return settle_; }

private:
    std::optional<edge_event> finish_burst();

    clock::duration settle_;
    bool stable_;
    bool raw_;
    bool open_ = false;
    clock::time_point burst_start_{};
    clock::time_point last_edge_{};
    std::uint32_t line_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint64_t lost_ = 0;
};

} // namespace edgeloop::gpio
