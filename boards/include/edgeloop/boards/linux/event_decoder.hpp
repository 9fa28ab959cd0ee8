#pragma once

#include <edgeloop/gpio/edge_event.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace edgeloop::boards::linux_cdev {

/// Decodes the `struct gpio_v2_line_event` records read from a line request fd, without I/O.
/// Records may arrive split across reads (a pipe in the tests); the rest waits for the next feed().
/// A gap in the per-line sequence numbers (the kernel's event buffer overflowed) is reported in the
/// next event's `lost` and counted in lost().
class event_decoder {
public:
    /// Size of one record (sizeof(struct gpio_v2_line_event)).
    static std::size_t record_size() noexcept;

    /// Returns the events of every record completed by `bytes`. Records with an unknown event id are
    /// skipped and counted in unknown_records().
    std::vector<gpio::edge_event> feed(std::span<const std::byte> bytes);

    std::uint64_t lost() const noexcept { return lost_; }
    std::uint64_t unknown_records() const noexcept { return unknown_; }
    /// Bytes of an incomplete record waiting for the rest.
    std::size_t pending_bytes() const noexcept { return partial_.size(); }

private:
    std::vector<std::byte> partial_;
    std::optional<std::uint64_t> last_sequence_;
    std::uint64_t lost_ = 0;
    std::uint64_t unknown_ = 0;
};

} // namespace edgeloop::boards::linux_cdev
