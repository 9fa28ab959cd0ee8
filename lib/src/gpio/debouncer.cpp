#include <edgeloop/gpio/debouncer.hpp>

namespace edgeloop::gpio {

std::optional<edge_event> debouncer::feed(const edge_event& raw) {
    std::optional<edge_event> settled;
    if (open_ && raw.timestamp - last_edge_ >= settle_)
        settled = finish_burst();
    if (!open_) {
        open_ = true;
        burst_start_ = raw.timestamp;
    }
    // The raw level follows the edge itself rather than toggling, so a lost edge cannot invert it.
    raw_ = raw.pressed();
    last_edge_ = raw.timestamp;
    line_ = raw.line;
    lost_ += raw.lost;
    return settled;
}

std::optional<edge_event> debouncer::poll(clock::time_point now) {
    if (open_ && now - last_edge_ >= settle_)
        return finish_burst();
    return std::nullopt;
}

std::optional<debouncer::clock::time_point> debouncer::deadline() const noexcept {
    if (!open_)
        return std::nullopt;
    return last_edge_ + settle_;
}

std::optional<edge_event> debouncer::finish_burst() {
    open_ = false;
    if (raw_ == stable_)
        return std::nullopt;
    stable_ = raw_;
    edge_event e;
    e.line = line_;
    e.edge = stable_ ? edge::rising : edge::falling;
    e.timestamp = burst_start_;
    e.sequence = ++sequence_;
    e.lost = lost_;
    lost_ = 0;
    return e;
}

} // namespace edgeloop::gpio
