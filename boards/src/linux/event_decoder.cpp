#include <edgeloop/boards/linux/event_decoder.hpp>

#include <linux/gpio.h>

#include <cstring>

namespace edgeloop::boards::linux_cdev {

std::size_t event_decoder::record_size() noexcept {
    return sizeof(gpio_v2_line_event);
}

std::vector<gpio::edge_event> event_decoder::feed(std::span<const std::byte> bytes) {
    std::vector<gpio::edge_event> out;
    partial_.insert(partial_.end(), bytes.begin(), bytes.end());
    std::size_t at = 0;
    for (; partial_.size() - at >= sizeof(gpio_v2_line_event); at += sizeof(gpio_v2_line_event)) {
        gpio_v2_line_event raw;
        std::memcpy(&raw, partial_.data() + at, sizeof raw);
        gpio::edge_event e;
        if (raw.id == GPIO_V2_LINE_EVENT_RISING_EDGE) {
            e.edge = gpio::edge::rising;
        } else if (raw.id == GPIO_V2_LINE_EVENT_FALLING_EDGE) {
            e.edge = gpio::edge::falling;
        } else {
            ++unknown_;
            continue;
        }
        e.line = raw.offset;
        // CLOCK_MONOTONIC unless the request asked for another event clock (we never do), the clock of
        // steady_clock on Linux.
        e.timestamp =
            gpio::edge_event::clock::time_point(std::chrono::duration_cast<gpio::edge_event::clock::duration>(
                std::chrono::nanoseconds(raw.timestamp_ns)));
        e.sequence = raw.line_seqno;
        if (last_sequence_ && e.sequence > *last_sequence_ + 1) {
            e.lost = e.sequence - *last_sequence_ - 1;
            lost_ += e.lost;
        }
        last_sequence_ = e.sequence;
        out.push_back(e);
    }
    partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(at));
    return out;
}

} // namespace edgeloop::boards::linux_cdev
