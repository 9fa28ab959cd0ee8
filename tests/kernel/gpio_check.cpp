// The linux GPIO driver against a real kernel: run by tests/kernel/run as the test program of an arm64
// initramfs under qemu-system-aarch64 -M virt, whose PL061 controller (/dev/gpiochip0, 8 lines) has its
// line 3 raised for about 100 ms by the emulator at each QMP system_powerdown.
//
// It asks the host for presses on the console ("@@press N GAP_MS", answered by N system_powerdown
// commands GAP_MS apart) and checks what the kernel's GPIO character device (uAPI v2) delivers through
// edgeloop's linux driver. Each check prints "ok NAME" or "not ok NAME: why"; the last line is
// "@@result pass" or "@@result fail N". Exit status 0 when every check passed.
#include <edgeloop/boards/line_spec.hpp>
#include <edgeloop/boards/linux/request.hpp>
#include <edgeloop/gpio/edge_event.hpp>
#include <edgeloop/gpio/input.hpp>
#include <edgeloop/gpio/output.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace boards = edgeloop::boards;
namespace gpio = edgeloop::gpio;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

int failures = 0;

void check(bool ok, const std::string& name, const std::string& why = {}) {
    if (ok) {
        std::cout << "ok " << name << std::endl;
    } else {
        ++failures;
        std::cout << "not ok " << name << (why.empty() ? "" : ": " + why) << std::endl;
    }
}

boards::line_spec spec(std::string name, std::uint32_t line, std::chrono::milliseconds debounce = 0ms) {
    boards::line_spec s;
    s.name = std::move(name);
    s.chain = {s.name};
    s.driver = "linux";
    s.chips = {"/dev/gpiochip0"};
    s.line = line;
    s.debounce = debounce;
    s.source = "tests/kernel/gpio_check.cpp";
    return s;
}

/// Asks the host for `n` presses of line 3, `gap` apart.
void request_presses(int n, std::chrono::milliseconds gap) {
    std::cout << "@@press " << n << " " << gap.count() << std::endl;
}

/// Collects edges with async_wait_edge, re-arming after each.
struct collector {
    gpio::input& in;
    std::vector<gpio::edge_event> events;
    std::optional<boost::system::error_code> error;

    explicit collector(gpio::input& i)
        : in(i) {
        arm();
    }
    void arm() {
        in.async_wait_edge([this](boost::system::error_code ec, gpio::edge_event e) {
            if (ec) {
                error = ec;
                return;
            }
            events.push_back(e);
            arm();
        });
    }
    /// Closes the input and runs the completions this posted (the wait's gpio::error::closed), so that
    /// no handler holding `this` outlives the collector.
    void finish(net::io_context& ioc) {
        in.close();
        ioc.restart();
        ioc.poll();
    }
};

/// Runs the loop until `done` or `limit`; true when done.
bool run_until(net::io_context& ioc, const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    return done();
}

/// Runs the loop for `d` (to see that nothing more comes).
void run_for(net::io_context& ioc, std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
}

/// The system_error that `f` throws (nullopt when it throws none).
std::optional<boost::system::system_error> error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return e;
    }
    return std::nullopt;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

/// The line of /sys/kernel/debug/gpio that shows `consumer` (gpiolib's own view of the line: direction,
/// physical value, active-low), empty when there is none.
std::string debugfs_line(const std::string& consumer) {
    std::ifstream f("/sys/kernel/debug/gpio");
    std::string line;
    while (std::getline(f, line))
        if (contains(line, "|" + consumer + " ") || contains(line, "|" + consumer + ")"))
            return line;
    return {};
}

std::string describe(const std::vector<gpio::edge_event>& events) {
    std::ostringstream out;
    for (const auto& e : events)
        out << " " << gpio::to_string(e.edge) << "#" << e.sequence << "(lost " << e.lost << ")";
    return out.str();
}

} // namespace

int main() {
    net::io_context ioc;
    const auto ex = ioc.get_executor();

    // 1. One press, no debouncing: a rising then a falling edge on line 3, with the kernel's timestamps.
    {
        auto in = boards::linux_cdev::open_input(ex, spec("BUTTON_A", 3));
        collector c(*in);
        check(!in->active(), "line 3 starts inactive");
        const auto before = gpio::edge_event::clock::now();
        request_presses(1, 0ms);
        const bool got = run_until(
            ioc, [&] { return c.events.size() >= 2; }, 30s);
        const auto after = gpio::edge_event::clock::now();
        check(got, "a press gives two edges", "got" + describe(c.events));
        if (got) {
            const auto& r = c.events[0];
            const auto& f = c.events[1];
            check(r.edge == gpio::edge::rising && f.edge == gpio::edge::falling, "rising then falling",
                  describe(c.events));
            check(r.line == 3 && f.line == 3, "the events name line 3");
            check(r.sequence == 1 && f.sequence == 2 && r.lost == 0 && f.lost == 0,
                  "sequence numbers 1 and 2, nothing lost", describe(c.events));
            check(before <= r.timestamp && r.timestamp < f.timestamp && f.timestamp <= after,
                  "kernel timestamps on the monotonic clock, in order, within the wait");
            std::cout << "# the press lasted " << (f.timestamp - r.timestamp) / 1us
                      << " us (kernel timestamps)" << std::endl;
        }
        run_for(ioc, 300ms);
        check(c.events.size() == 2, "no further edges", "got" + describe(c.events));
        check(!in->active(), "line 3 inactive after the release");

        // 2. The line is held by this request: a second request is refused, naming the holder.
        const auto busy = error_of([&] { boards::linux_cdev::open_input(ex, spec("BUTTON_B", 3)); });
        check(busy && busy->code().value() == EBUSY, "a second request of line 3 fails with EBUSY",
              busy ? busy->what() : "no error");
        if (busy)
            check(contains(busy->what(), "BUTTON_B") && contains(busy->what(), "gpiochip0") &&
                      contains(busy->what(), "line 3") && contains(busy->what(), "'edgeloop BUTTON_A'"),
                  "the EBUSY message names the line, the chip and the holder", busy->what());

        // 3. Bursts with the reader running: every edge delivered, in sequence, none lost.
        constexpr int presses = 10;
        c.events.clear();
        request_presses(presses, 250ms);
        const bool all = run_until(
            ioc, [&] { return c.events.size() >= 2 * presses; }, 60s);
        check(all, "a burst of 10 presses gives 20 edges", "got " + std::to_string(c.events.size()));
        bool in_order = all;
        for (std::size_t i = 0; all && i < c.events.size(); ++i)
            in_order = in_order && c.events[i].sequence == 3 + i && c.events[i].lost == 0 &&
                       c.events[i].edge == (i % 2 == 0 ? gpio::edge::rising : gpio::edge::falling);
        check(in_order, "the burst's edges alternate, sequences 3..22, none lost");
        check(in->lost_events() == 0, "lost_events() is 0 after the burst");

        // 4. A burst while nobody reads: the kernel's event buffer (16 events for one line) overflows;
        //    the gap in the sequence numbers is counted as lost, delivered + lost = every edge.
        constexpr int stalled = 20;
        c.events.clear();
        request_presses(stalled, 200ms);
        std::this_thread::sleep_for(std::chrono::milliseconds(stalled * 200 + 4000)); // the loop does not run
        run_until(
            ioc, [&] { return false; }, 2s);
        std::uint64_t lost = 0;
        for (const auto& e : c.events)
            lost += e.lost;
        check(c.events.size() < 2 * stalled && lost > 0, "an overflowing burst reports lost events",
              std::to_string(c.events.size()) + " delivered, " + std::to_string(lost) + " lost");
        check(c.events.size() + lost == 2 * stalled, "delivered + lost = the 40 edges of the burst",
              std::to_string(c.events.size()) + " + " + std::to_string(lost));
        check(in->lost_events() == lost, "lost_events() counts them", std::to_string(in->lost_events()));
        check(!in->active(), "the level is right after the loss (inactive)");
        c.finish(ioc);
    }

    // 5. Out of range: the chip has 8 lines.
    {
        const auto range = error_of([&] { boards::linux_cdev::open_input(ex, spec("BUTTON_C", 8)); });
        check(range && range->code().value() == EINVAL, "line 8 of an 8-line chip fails with EINVAL",
              range ? range->what() : "no error");
        if (range)
            check(contains(range->what(), "line 8 is out of range") && contains(range->what(), "8 lines"),
                  "the message says so", range->what());
    }

    // 6. Debouncing (the kernel's, or edgeloop's where the kernel refuses): a 100 ms press passes a
    //    20 ms debounce as one clean press and release; a 400 ms debounce swallows it.
    {
        auto in = boards::linux_cdev::open_input(ex, spec("BUTTON_D", 3, 20ms));
        collector c(*in);
        request_presses(1, 0ms);
        const bool got = run_until(
            ioc, [&] { return c.events.size() >= 2; }, 30s);
        run_for(ioc, 500ms);
        check(got && c.events.size() == 2 && c.events[0].edge == gpio::edge::rising &&
                  c.events[1].edge == gpio::edge::falling,
              "debounce 20 ms: one press, one release", "got" + describe(c.events));
        c.finish(ioc);
    }
    {
        auto in = boards::linux_cdev::open_input(ex, spec("BUTTON_E", 3, 400ms));
        collector c(*in);
        request_presses(1, 0ms);
        run_for(ioc, 3000ms);
        check(c.events.empty(), "debounce 400 ms: a 100 ms press is filtered out",
              "got" + describe(c.events));
        c.finish(ioc);
    }

    // 7. An output line, read back through gpiolib (debugfs shows the physical value).
    {
        auto led = boards::linux_cdev::open_output(spec("LED1", 0));
        const std::string consumer = "edgeloop LED1";
        check(contains(debugfs_line(consumer), " out ") && contains(debugfs_line(consumer), " lo"),
              "LED1 requested as an output, initially low", debugfs_line(consumer));
        led->set(true);
        check(led->get() && contains(debugfs_line(consumer), " hi"), "LED1 on reads back high",
              debugfs_line(consumer));
        led->set(false);
        check(!led->get() && contains(debugfs_line(consumer), " lo"), "LED1 off reads back low",
              debugfs_line(consumer));
    }
    {
        auto s = spec("LED2", 1);
        s.active_low = true;
        auto led = boards::linux_cdev::open_output(s);
        const std::string consumer = "edgeloop LED2";
        check(contains(debugfs_line(consumer), " hi") && contains(debugfs_line(consumer), "ACTIVE LOW"),
              "active-low LED2 off is high", debugfs_line(consumer));
        led->set(true);
        check(contains(debugfs_line(consumer), " lo"), "active-low LED2 on reads back low",
              debugfs_line(consumer));
    }
    check(debugfs_line("edgeloop LED1").empty(), "a released output is free again",
          debugfs_line("edgeloop LED1"));

    if (failures == 0)
        std::cout << "@@result pass" << std::endl;
    else
        std::cout << "@@result fail " << failures << std::endl;
    return failures == 0 ? 0 : 1;
}
