#pragma once

#include <edgeloop/boards/linux/unique_fd.hpp>
#include <edgeloop/gpio/input.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace edgeloop::boards::linux_cdev {

/// How a line_input reads and reports its line.
struct line_input_config {
    std::string name;   ///< logical name (BUTTON_A)
    std::string device; ///< for messages: "/dev/gpiochip0 line 17"
    bool initially_active = false;
    /// Debounce in user space with gpio::debouncer (when the kernel could not): zero = none.
    std::chrono::nanoseconds software_debounce{0};
    /// Re-reads the line's logical level after lost events; nullopt when it cannot. Empty: the
    /// GPIO_V2_LINE_GET_VALUES_IOCTL of the request fd.
    std::function<std::optional<bool>()> read_level;
};

/// An input fed by `struct gpio_v2_line_event` records from a file descriptor: a GPIO line request fd
/// (open_input() makes one), or in the tests a pipe carrying the same records. The fd is wrapped in an
/// asio::posix::stream_descriptor; when it is readable, records are read until EAGAIN, at most
/// max_records_per_turn at a time, and decoded (event_decoder); a sequence gap is logged with the count
/// of lost events, and the level re-read. End of file (a pipe's writer closed) closes the input.
class line_input final : public gpio::input {
public:
    /// Records read in one turn of the loop at most. A flood of edges (a chattering contact, a noisy
    /// line) is read in slices of this many, the next slice posted behind the handlers already ready,
    /// so that it cannot starve the rest of the loop (network I/O, timers, the application's handlers).
    static constexpr std::size_t max_records_per_turn = 64;

    /// Takes ownership of `fd` (made non-blocking; closed if this throws) and starts reading.
    line_input(boost::asio::any_io_executor ex, unique_fd fd, line_input_config config);
    /// As above, for a descriptor not held in a unique_fd yet: owned (and closed if this throws) from
    /// the call on.
    line_input(boost::asio::any_io_executor ex, int fd, line_input_config config);
    ~line_input() override;

    struct reader;

private:
    void close_source() override;
    friend struct reader;

    std::shared_ptr<reader> reader_;
};

} // namespace edgeloop::boards::linux_cdev
