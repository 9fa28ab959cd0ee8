#include <edgeloop/boards/linux/event_decoder.hpp>
#include <edgeloop/boards/linux/line_input.hpp>
#include <edgeloop/core/log.hpp>
#include <edgeloop/gpio/debouncer.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <linux/gpio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace edgeloop::boards::linux_cdev {

namespace net = boost::asio;
using boost::system::error_code;

/// The I/O half of a line_input. Shared with its pending handlers, so that a handler running after the
/// input is gone finds `owner` null and stops.
struct line_input::reader : std::enable_shared_from_this<line_input::reader> {
    reader(net::any_io_executor ex, unique_fd fd, line_input_config c, line_input* o)
        : owner(o)
        , stream(ex)
        , debounce_timer(ex)
        , config(std::move(c)) {
        const int flags = ::fcntl(fd.get(), F_GETFL);
        if (flags >= 0)
            ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
        error_code ec;
        stream.assign(fd.get(), ec);
        if (ec) // `fd` still owns the descriptor and closes it
            throw boost::system::system_error(ec, config.name + " (" + config.device +
                                                      "): cannot watch for events");
        fd.release(); // the stream closes it from now on
        if (config.software_debounce.count() > 0)
            debouncer.emplace(
                std::chrono::duration_cast<gpio::debouncer::clock::duration>(config.software_debounce),
                config.initially_active);
    }

    void wait() {
        stream.async_wait(net::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const error_code& ec) { self->on_readable(ec); });
    }

    void on_readable(const error_code& ec) {
        if (!owner)
            return;
        if (ec) {
            if (ec != net::error::operation_aborted)
                fail("waiting for events: " + ec.message());
            return;
        }
        // Drain what the kernel has queued (one readiness notification may cover many events), but at
        // most max_records_per_turn records before the rest of the loop gets its turn: the next slice
        // is posted behind the handlers already ready. Not a new wait: the descriptor's readiness is
        // edge-triggered, and the data left would not trigger it again.
        std::size_t budget = line_input::max_records_per_turn * sizeof(gpio_v2_line_event);
        for (;;) {
            if (budget == 0) {
                net::post(stream.get_executor(), [self = shared_from_this()] { self->on_readable({}); });
                return;
            }
            const ssize_t n = ::read(stream.native_handle(), buffer.data(), std::min(buffer.size(), budget));
            if (n > 0) {
                budget -= static_cast<std::size_t>(n);
                handle(decoder.feed(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n))));
                if (!owner)
                    return;
                continue;
            }
            if (n == 0) {
                core::log::write(core::log_level::info,
                                 config.name + " (" + config.device + "): end of events");
                owner->close_from_source();
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail(std::string("reading events: ") + std::strerror(errno));
            return;
        }
        wait();
    }

    void handle(const std::vector<gpio::edge_event>& events) {
        std::uint64_t lost = 0;
        for (const auto& e : events) {
            lost += e.lost;
            if (debouncer) {
                // The debouncer would hold the count until its next clean edge, which may never come (a
                // burst that ends where it began reports nothing): counted by the input at once instead,
                // and carried by the next edge it delivers.
                gpio::edge_event raw = e;
                raw.lost = 0;
                if (auto clean = debouncer->feed(raw))
                    owner->deliver(*clean);
                if (owner && e.lost > 0)
                    owner->add_lost(e.lost);
            } else {
                owner->deliver(e);
            }
            if (!owner)
                return;
        }
        if (lost > 0)
            resync(lost);
        if (debouncer)
            arm_debounce();
    }

    /// After lost events the edges no longer add up to the level: ask the line itself.
    void resync(std::uint64_t lost) {
        const auto level = config.read_level ? config.read_level() : read_level_ioctl();
        if (level)
            owner->set_level(*level);
        core::log::write(core::log_level::warn,
                         config.name + " (" + config.device + "): " + std::to_string(lost) +
                             " edge events lost (the kernel's event buffer overflowed); " +
                             (level ? std::string("level re-read: ") + (*level ? "active" : "inactive")
                                    : std::string("level unknown until the next edge")));
    }

    std::optional<bool> read_level_ioctl() {
        gpio_v2_line_values values{};
        values.mask = 1;
        if (::ioctl(stream.native_handle(), GPIO_V2_LINE_GET_VALUES_IOCTL, &values) != 0)
            return std::nullopt;
        return (values.bits & 1) != 0;
    }

    void arm_debounce() {
        const auto deadline = debouncer->deadline();
        if (!deadline)
            return;
        debounce_timer.expires_at(*deadline);
        debounce_timer.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || !self->owner)
                return;
            if (auto clean = self->debouncer->poll(gpio::debouncer::clock::now()))
                self->owner->deliver(*clean);
            if (self->owner)
                self->arm_debounce();
        });
    }

    void fail(const std::string& what) {
        core::log::write(core::log_level::error, config.name + " (" + config.device + "): " + what);
        owner->close_from_source();
    }

    void close() {
        owner = nullptr;
        error_code ignored;
        debounce_timer.cancel();
        stream.close(ignored);
    }

    line_input* owner;
    net::posix::stream_descriptor stream;
    net::steady_timer debounce_timer;
    line_input_config config;
    event_decoder decoder;
    std::optional<gpio::debouncer> debouncer;
    std::array<std::byte, 16 * sizeof(gpio_v2_line_event)> buffer{};
};

line_input::line_input(net::any_io_executor ex, unique_fd fd, line_input_config config)
    : gpio::input(ex, config.name, config.initially_active)
    , reader_(std::make_shared<reader>(ex, std::move(fd), std::move(config), this)) {
    reader_->wait();
}

line_input::line_input(net::any_io_executor ex, int fd, line_input_config config)
    : line_input(std::move(ex), unique_fd(fd), std::move(config)) {}

line_input::~line_input() {
    reader_->close();
}

void line_input::close_source() {
    reader_->close();
}

} // namespace edgeloop::boards::linux_cdev
