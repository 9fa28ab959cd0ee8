// The linux driver without GPIO hardware: real struct gpio_v2_line_event records written into a pipe go
// through the same reader as a line request fd; the request path fails clearly on missing and non-GPIO
// device files.
#include <edgeloop/boards/linux/line_input.hpp>

#include <edgeloop/boards/board.hpp>
#include <edgeloop/boards/linux/request.hpp>
#include <edgeloop/gpio/error.hpp>

#include <support/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <linux/gpio.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <optional>
#include <sys/ioctl.h>
#include <type_traits>
#include <unistd.h>

namespace boards = edgeloop::boards;
namespace gpio = edgeloop::gpio;
namespace net = boost::asio;
using boards::linux_cdev::line_input;
using boost::system::error_code;
using namespace std::chrono_literals;

// Allocation failure injection: the n-th call of operator new from now on throws bad_alloc (0: none).
// Every allocation still goes to the operator new this one replaces (libstdc++'s, or the sanitizer's),
// found with dlsym(RTLD_NEXT), so that the matching operator delete is unchanged.
namespace {
thread_local long allocations_until_failure = 0;

void fail_allocation(long n) noexcept {
    allocations_until_failure = n;
}
} // namespace

// The mangled name of operator new(std::size_t) follows std::size_t: _Znwm where it is unsigned long (LP64:
// amd64, arm64), _Znwj where it is unsigned int (ILP32: armhf). A fixed _Znwm found nothing on armhf, and
// the first allocation (Boost.Test registering the test cases, before main) aborted.
constexpr const char* operator_new_symbol = std::is_same_v<std::size_t, unsigned long> ? "_Znwm" : "_Znwj";
static_assert(std::is_same_v<std::size_t, unsigned long> || std::is_same_v<std::size_t, unsigned int>);

void* operator new(std::size_t size) {
    if (allocations_until_failure > 0 && --allocations_until_failure == 0)
        throw std::bad_alloc();
    using new_function = void* (*)(std::size_t);
    static const auto next = reinterpret_cast<new_function>(::dlsym(RTLD_NEXT, operator_new_symbol));
    if (next == nullptr) {
        // No allocation (and so no iostream) here: say what failed with write(2), then stop.
        static constexpr char message[] =
            "linux_gpio_test: dlsym(RTLD_NEXT) found no operator new(std::size_t)\n";
        [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
        std::abort();
    }
    return next(size);
}

namespace {

bool run_until(net::io_context& ioc, const std::function<bool()>& done, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    return done();
}

gpio_v2_line_event record(std::uint32_t id, std::uint64_t ns, std::uint32_t seq, std::uint32_t offset = 17) {
    gpio_v2_line_event e{};
    e.timestamp_ns = ns;
    e.id = id;
    e.offset = offset;
    e.seqno = seq;
    e.line_seqno = seq;
    return e;
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          gpio::edge_event::clock::now().time_since_epoch())
                                          .count());
}

gpio::edge_event::clock::time_point at_ns(std::uint64_t ns) {
    return gpio::edge_event::clock::time_point(std::chrono::nanoseconds(ns));
}

/// A pipe whose read end feeds a line_input, as a line request fd would.
struct pipe_line {
    int write_fd = -1;
    std::unique_ptr<line_input> input;

    pipe_line(net::io_context& ioc, boards::linux_cdev::line_input_config config) {
        int fds[2];
        BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        write_fd = fds[1];
        if (config.name.empty())
            config.name = "BUTTON_A";
        config.device = "test pipe";
        input = std::make_unique<line_input>(ioc.get_executor(), fds[0], std::move(config));
    }
    ~pipe_line() { close_writer(); }

    void write(std::initializer_list<gpio_v2_line_event> records) {
        for (const auto& r : records)
            write_bytes(&r, sizeof r);
    }
    void write_bytes(const void* p, std::size_t n) {
        BOOST_REQUIRE_EQUAL(::write(write_fd, p, n), static_cast<ssize_t>(n));
    }
    void close_writer() {
        if (write_fd >= 0)
            ::close(write_fd);
        write_fd = -1;
    }
};

/// Collects edges with async_wait_edge, re-arming after each.
struct collector {
    gpio::input& in;
    std::vector<gpio::edge_event> events;
    std::optional<error_code> error;

    explicit collector(gpio::input& i)
        : in(i) {
        arm();
    }
    void arm() {
        in.async_wait_edge([this](error_code ec, gpio::edge_event e) {
            if (ec) {
                error = ec;
                return;
            }
            events.push_back(e);
            arm();
        });
    }
};

boards::line_spec spec_on(std::string chip, std::uint32_t line = 3) {
    boards::line_spec s;
    s.name = "BUTTON_A";
    s.driver = "linux";
    s.chips = {std::move(chip)};
    s.line = line;
    return s;
}

boost::system::system_error request_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return e;
    }
    BOOST_FAIL("no system_error");
    throw std::logic_error("unreachable");
}

} // namespace

BOOST_AUTO_TEST_SUITE(linux_gpio)

BOOST_AUTO_TEST_CASE(pipe_fed_records_decode_to_edges_timestamps_and_sequences) {
    net::io_context ioc;
    pipe_line line(ioc, {});
    collector c(*line.input);
    line.write({record(GPIO_V2_LINE_EVENT_RISING_EDGE, 5'000'000'001, 1),
                record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 5'080'000'002, 2),
                record(GPIO_V2_LINE_EVENT_RISING_EDGE, 6'000'000'003, 3)});
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.events.size() == 3; }));
    const gpio::edge expected_edges[] = {gpio::edge::rising, gpio::edge::falling, gpio::edge::rising};
    const std::uint64_t expected_ns[] = {5'000'000'001, 5'080'000'002, 6'000'000'003};
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST((c.events[i].edge == expected_edges[i]), "edge " << i);
        BOOST_TEST((c.events[i].timestamp == at_ns(expected_ns[i])), "timestamp " << i);
        BOOST_TEST(c.events[i].sequence == i + 1);
        BOOST_TEST(c.events[i].line == 17u);
        BOOST_TEST(c.events[i].lost == 0u);
    }
    BOOST_TEST(line.input->active());
    BOOST_TEST(line.input->lost_events() == 0u);
}

BOOST_AUTO_TEST_CASE(a_record_split_across_writes_is_decoded_whole) {
    net::io_context ioc;
    pipe_line line(ioc, {});
    collector c(*line.input);
    const auto r = record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 77, 1);
    const auto* bytes = reinterpret_cast<const char*>(&r);
    line.write_bytes(bytes, 10);
    ioc.poll(); // the reader takes the first part and waits for more
    BOOST_TEST(c.events.empty());
    line.write_bytes(bytes + 10, sizeof r - 10);
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.events.size() == 1; }));
    BOOST_TEST((c.events[0].timestamp == at_ns(77)));
}

BOOST_AUTO_TEST_CASE(a_sequence_gap_is_reported_and_the_level_re_read) {
    net::io_context ioc;
    int reads = 0;
    boards::linux_cdev::line_input_config config;
    config.read_level = [&]() -> std::optional<bool> {
        ++reads;
        return true; // the line is pressed, whatever the last edge we saw says
    };
    pipe_line line(ioc, config);
    collector c(*line.input);
    line.write({record(GPIO_V2_LINE_EVENT_RISING_EDGE, 100, 1),
                record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 200, 2),
                record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 600, 6)});
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.events.size() == 3; }));
    BOOST_TEST(c.events[1].lost == 0u);
    BOOST_TEST(c.events[2].lost == 3u, "sequence 3, 4 and 5 never came");
    BOOST_TEST(c.events[2].sequence == 6u);
    BOOST_TEST(line.input->lost_events() == 3u);
    BOOST_TEST(reads == 1, "the level is re-read once after the gap");
    BOOST_TEST(line.input->active(), "the re-read level wins over the last edge seen");
}

BOOST_AUTO_TEST_CASE(software_debounce_turns_a_bouncing_press_into_one) {
    net::io_context ioc;
    boards::linux_cdev::line_input_config config;
    config.software_debounce = 20ms;
    pipe_line line(ioc, config);
    collector c(*line.input);
    // Timestamps from now: the trailing edge is reported by a timer 20 ms after the last raw edge.
    const auto t = now_ns();
    line.write({record(GPIO_V2_LINE_EVENT_RISING_EDGE, t, 1),
                record(GPIO_V2_LINE_EVENT_FALLING_EDGE, t + 1'000'000, 2),
                record(GPIO_V2_LINE_EVENT_RISING_EDGE, t + 2'000'000, 3)});
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.events.size() == 1; }));
    BOOST_TEST(c.events[0].pressed());
    BOOST_TEST((c.events[0].timestamp == at_ns(t)), "stamped with the first edge of the bounce");
    BOOST_TEST(line.input->active());
    // The release comes next, not a second press.
    const auto t2 = now_ns();
    line.write({record(GPIO_V2_LINE_EVENT_FALLING_EDGE, t2, 4)});
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.events.size() == 2; }));
    BOOST_TEST((c.events[1].edge == gpio::edge::falling));
}

BOOST_AUTO_TEST_CASE(events_lost_inside_a_debounced_glitch_are_counted) {
    // A press and a release 1 ms apart with three events lost between them: a glitch for the debouncer,
    // which reports no edge. The three are lost all the same, and counted as soon as the gap is seen.
    net::io_context ioc;
    boards::linux_cdev::line_input_config config;
    config.software_debounce = 20ms;
    config.read_level = []() -> std::optional<bool> { return false; };
    pipe_line line(ioc, config);
    collector c(*line.input);
    const auto t = now_ns();
    line.write({record(GPIO_V2_LINE_EVENT_RISING_EDGE, t, 1),
                record(GPIO_V2_LINE_EVENT_FALLING_EDGE, t + 1'000'000, 5)});
    line.close_writer(); // end of events: read after the records
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.error.has_value(); }));
    BOOST_TEST(c.events.empty(), "a glitch reports no edge");
    BOOST_TEST(line.input->lost_events() == 3u, "sequence 2, 3 and 4 never came");
}

BOOST_AUTO_TEST_CASE(events_lost_before_a_debounced_edge_are_carried_by_it_and_counted_once) {
    net::io_context ioc;
    boards::linux_cdev::line_input_config config;
    config.software_debounce = 20ms;
    config.read_level = []() -> std::optional<bool> { return true; };
    pipe_line line(ioc, config);
    collector c(*line.input);
    const auto t = now_ns();
    line.write({record(GPIO_V2_LINE_EVENT_RISING_EDGE, t, 1),
                record(GPIO_V2_LINE_EVENT_RISING_EDGE, t + 1'000'000, 4)});
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.events.size() == 1; }));
    BOOST_TEST(c.events[0].pressed());
    BOOST_TEST(c.events[0].lost == 2u);
    BOOST_TEST(line.input->lost_events() == 2u);
}

BOOST_AUTO_TEST_CASE(a_flood_of_events_is_read_in_slices_that_let_the_loop_turn) {
    // 1000 records already in the pipe when the loop starts: read until EAGAIN in one go, they would
    // all be consumed before any other handler ran. A handler posted by the first edge's must run while
    // most of them are still in the pipe.
    net::io_context ioc;
    pipe_line line(ioc, {});
    constexpr std::uint32_t total = 1000;
    for (std::uint32_t i = 1; i <= total; ++i)
        line.write({record(i % 2 == 1 ? GPIO_V2_LINE_EVENT_RISING_EDGE : GPIO_V2_LINE_EVENT_FALLING_EDGE,
                           1000 * i, i)});
    std::optional<int> bytes_left;
    line.input->async_wait_edge([&](error_code ec, gpio::edge_event) {
        BOOST_TEST(!ec);
        net::post(ioc, [&] {
            int n = -1;
            BOOST_TEST(::ioctl(line.write_fd, FIONREAD, &n) == 0);
            bytes_left = n;
        });
    });
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return bytes_left.has_value(); }));
    // The first slice delivered the edge; the second was posted before the probe; no more came first.
    const auto slice = line_input::max_records_per_turn;
    BOOST_TEST(*bytes_left == static_cast<int>((total - 2 * slice) * sizeof(gpio_v2_line_event)));
    // The rest still arrives, slice by slice: every record is read (most overflow the queue of the input
    // nobody waits on, and are counted there).
    line.close_writer();
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return line.input->is_closed(); }));
    BOOST_TEST(line.input->lost_events() == total - 1 - gpio::input::queue_limit);
}

BOOST_AUTO_TEST_CASE(the_descriptor_is_closed_whichever_allocation_fails_while_the_input_is_made) {
    // Every allocation made while a line_input is constructed is failed in turn: each time, the read end
    // of the pipe must be closed (a write to the pipe then fails with EPIPE), by the constructor that
    // threw or by the destructor of the input it made.
    net::io_context ioc;
    { pipe_line warm_up(ioc, {}); } // the loop's services exist: their allocations are not the input's
    const auto old_sigpipe = std::signal(SIGPIPE, SIG_IGN);
    int failures = 0;
    for (long n = 1;; ++n) {
        BOOST_TEST_REQUIRE(n < 10'000, "the constructor never stopped allocating");
        int fds[2];
        BOOST_TEST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        boards::linux_cdev::line_input_config config;
        config.name = "BUTTON_WITH_A_NAME_TOO_LONG_FOR_SSO"; // so that copying it allocates
        config.device = "test pipe with a long description";
        bool threw = false;
        {
            fail_allocation(n);
            try {
                line_input in(ioc.get_executor(), fds[0], std::move(config));
                fail_allocation(0);
            } catch (const std::bad_alloc&) {
                threw = true;
            }
            fail_allocation(0);
        }
        errno = 0;
        const auto written = ::write(fds[1], "x", 1);
        const int err = errno;
        ::close(fds[1]);
        BOOST_TEST_REQUIRE((written == -1 && err == EPIPE),
                           "the pipe's read end is still open after allocation " << n << " failed");
        if (!threw)
            break; // constructed without reaching the n-th allocation: every one has been failed
        ++failures;
    }
    std::signal(SIGPIPE, old_sigpipe);
    BOOST_TEST(failures >= 3, "the constructor allocates (name, queue, reader)");
}

BOOST_AUTO_TEST_CASE(end_of_events_closes_the_input) {
    net::io_context ioc;
    pipe_line line(ioc, {});
    collector c(*line.input);
    line.close_writer();
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return c.error.has_value(); }));
    BOOST_TEST((*c.error == gpio::error::closed));
}

BOOST_AUTO_TEST_CASE(closing_the_input_stops_reading_so_the_loop_drains) {
    net::io_context ioc;
    pipe_line line(ioc, {});
    collector c(*line.input);
    line.input->close();
    ioc.run_for(10s);
    BOOST_TEST(ioc.stopped(), "nothing left waiting on the pipe");
    BOOST_TEST((*c.error == gpio::error::closed));
}

BOOST_AUTO_TEST_CASE(the_kernel_debounce_fallback_says_what_was_refused_and_what_is_done_instead) {
    const auto m =
        boards::linux_cdev::kernel_debounce_refused_message("BUTTON_A", "/dev/gpiochip0 line 17", 10ms);
    BOOST_TEST(m.find("BUTTON_A: /dev/gpiochip0 line 17: ") == 0u, m);
    BOOST_TEST(m.find("refused a debounce period of 10 ms (EINVAL)") != std::string::npos, m);
    // EINVAL is the chip's driver refusing the period: the kernel can debounce in software, and does for
    // drivers that have no debounce at all (ENOTSUPP). "The kernel cannot debounce" would be wrong.
    BOOST_TEST(m.find("cannot debounce") == std::string::npos, m);
    BOOST_TEST(m.find("driver") != std::string::npos, m);
    BOOST_TEST(m.find("debounced by edgeloop in user space instead (10 ms)") != std::string::npos, m);
}

BOOST_AUTO_TEST_CASE(a_missing_chip_is_named) {
    const auto e = request_error([] { boards::linux_cdev::open_chip(spec_on("/dev/gpiochip-nonexistent")); });
    BOOST_TEST(e.code().value() == ENOENT);
    const std::string what = e.what();
    BOOST_TEST(what.find("BUTTON_A: no GPIO chip /dev/gpiochip-nonexistent") == 0u, what);
    BOOST_TEST(what.find("No such file or directory") != std::string::npos, what);
}

BOOST_AUTO_TEST_CASE(a_device_that_is_not_a_gpio_chip_is_refused) {
    net::io_context ioc;
    for (const auto& open : std::vector<std::function<void()>>{
             [] { boards::linux_cdev::open_chip(spec_on("/dev/null")); },
             [&] { boards::linux_cdev::open_input(ioc.get_executor(), spec_on("/dev/null")); },
             [] { boards::linux_cdev::open_output(spec_on("/dev/null")); }}) {
        const auto e = request_error(open);
        BOOST_TEST(e.code().value() == ENOTTY);
        const std::string what = e.what();
        BOOST_TEST(what.find("/dev/null is not a GPIO character device") != std::string::npos, what);
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_chip_label_says_what_was_tried) {
    const auto e = request_error([] {
        auto s = spec_on("no-such-gpio-label");
        s.chips.push_back("/dev/gpiochip-nonexistent");
        boards::linux_cdev::open_chip(s);
    });
    BOOST_TEST(e.code().value() == ENODEV);
    const std::string what = e.what();
    BOOST_TEST(what.find("tried label 'no-such-gpio-label', /dev/gpiochip-nonexistent") != std::string::npos,
               what);
}

BOOST_AUTO_TEST_CASE(a_board_file_with_a_missing_chip_fails_when_the_line_is_opened) {
    const auto dir = edgeloop::test::make_temp_dir("edgeloop-board-");
    const auto file = dir + "/gateway.json";
    std::ofstream(file) << R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1},
        "Peripherals": [{"Name": "BUTTON_A", "Driver": "linux", "Chip": "/dev/gpiochip-nonexistent", "Line": 5,
                         "ActiveLow": true, "Bias": "pull-up", "DebounceMs": 10}]})";
    net::io_context ioc;
    auto board = boards::open_board(ioc.get_executor(), file);
    BOOST_TEST(board->name() == "gateway");
    const auto e = request_error([&] { board->input("BUTTON_A"); });
    BOOST_TEST(e.code().value() == ENOENT);
    BOOST_TEST(std::string(e.what()).find("/dev/gpiochip-nonexistent") != std::string::npos);
    BOOST_TEST(!board->live_input());
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
