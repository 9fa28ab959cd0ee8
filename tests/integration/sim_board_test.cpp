// The sim board end to end on a real loop: presses written into its FIFO reach inputs waiting with
// async_wait_edge, and start transfers against the devserver as multi_fetch does.
#include <edgeloop/boards/board.hpp>

#include <edgeloop/core/reactor.hpp>
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/gpio/error.hpp>
#include <edgeloop/gpio/subscription.hpp>
#include <edgeloop/http/client.hpp>

#include <support/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

namespace boards = edgeloop::boards;
namespace gpio = edgeloop::gpio;
namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

/// Runs the loop until `done()` or `limit`; false when the limit passed first.
bool run_until(net::io_context& ioc, const std::function<bool()>& done, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    return done();
}

/// A private directory with the path of a FIFO (not yet created) in it; removed at the end.
struct fifo_dir {
    std::string dir = edgeloop::test::make_temp_dir("edgeloop-sim-");
    std::string fifo = dir + "/presses";
    ~fifo_dir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

/// Writes lines into the FIFO as `echo BUTTON_A > fifo` would: open, write, close.
void write_fifo(const std::string& path, const std::string& text) {
    // The board holds the FIFO open for reading, so opening it for writing does not block.
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    BOOST_REQUIRE_MESSAGE(fd >= 0, "open " << path << ": " << std::strerror(errno));
    const auto n = ::write(fd, text.data(), text.size());
    ::close(fd);
    BOOST_REQUIRE_EQUAL(n, static_cast<ssize_t>(text.size()));
}

boards::sim_options fifo_options(const std::string& fifo) {
    boards::sim_options o;
    o.fifo = fifo;
    o.terminal = boards::terminal_mode::off;
    return o;
}

struct wait_result {
    std::optional<error_code> ec;
    gpio::edge_event event;
};

} // namespace

BOOST_AUTO_TEST_SUITE(sim_board)

BOOST_AUTO_TEST_CASE(a_name_written_into_the_fifo_presses_that_button) {
    fifo_dir d;
    net::io_context ioc;
    {
        auto board = boards::open_board(ioc.get_executor(), "sim", fifo_options(d.fifo));
        struct stat st {};
        BOOST_TEST_REQUIRE(::stat(d.fifo.c_str(), &st) == 0, "the board creates the FIFO");
        BOOST_TEST(S_ISFIFO(st.st_mode));
        BOOST_TEST(board->live_input(), "presses may come through the FIFO at any time");

        auto& a = board->input("BUTTON_A");
        wait_result press, release;
        a.async_wait_edge([&](error_code ec, gpio::edge_event e) {
            press = {ec, e};
            a.async_wait_edge([&](error_code ec2, gpio::edge_event e2) { release = {ec2, e2}; });
        });
        const auto before = gpio::edge_event::clock::now();
        write_fifo(d.fifo, "BUTTON_A\n");
        BOOST_TEST_REQUIRE(run_until(ioc, [&] { return release.ec.has_value(); }),
                           "press delivered within 20 s");
        BOOST_TEST(!*press.ec);
        BOOST_TEST(press.event.pressed());
        BOOST_TEST(press.event.line == 12u, "the line number of the definition");
        BOOST_TEST(press.event.sequence == 1u);
        BOOST_TEST(press.event.lost == 0u);
        BOOST_TEST((press.event.timestamp >= before));
        BOOST_TEST(!*release.ec);
        BOOST_TEST((release.event.edge == gpio::edge::falling),
                   "a simulated press is a click: press, release");
        BOOST_TEST(release.event.sequence == 2u);
        BOOST_TEST(!a.active());
    }
    BOOST_TEST(!std::filesystem::exists(d.fifo), "a FIFO the board created is removed with it");
}

BOOST_AUTO_TEST_CASE(writers_come_and_go_and_unknown_names_are_skipped) {
    fifo_dir d;
    BOOST_TEST_REQUIRE(::mkfifo(d.fifo.c_str(), 0600) == 0);
    net::io_context ioc;
    {
        auto board = boards::open_board(ioc.get_executor(), "sim", fifo_options(d.fifo));
        auto& b = board->input("BUTTON_B");
        std::vector<gpio::edge_event> presses;
        auto sub = gpio::subscribe(
            b, [&](const gpio::edge_event& e) { presses.push_back(e); }, true);
        // Three separate writers, one name the board does not know, spaces and CRLF around names.
        write_fifo(d.fifo, "NOT_A_BUTTON\n");
        write_fifo(d.fifo, "  BUTTON_B \r\n");
        write_fifo(d.fifo, "LED1\nBUTTON_B\n");
        BOOST_TEST_REQUIRE(run_until(ioc, [&] { return presses.size() == 2; }));
        BOOST_TEST(presses[0].sequence == 1u);
        BOOST_TEST(presses[1].sequence == 3u);
    }
    BOOST_TEST(std::filesystem::exists(d.fifo), "a FIFO that was there before stays");
}

BOOST_AUTO_TEST_CASE(a_scheduled_press_is_made_and_counted) {
    net::io_context ioc;
    boards::sim_options o;
    o.terminal = boards::terminal_mode::off;
    o.press_after = {20ms};
    auto board = boards::open_board(ioc.get_executor(), "sim", o);
    BOOST_TEST(board->scheduled_presses_pending() == 1u);
    BOOST_TEST(!board->live_input());
    auto& a = board->input("BUTTON_A");
    wait_result r;
    std::size_t pending_seen_by_handler = 99;
    a.async_wait_press([&](error_code ec, gpio::edge_event e) {
        r = {ec, e};
        pending_seen_by_handler = board->scheduled_presses_pending();
    });
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return r.ec.has_value(); }));
    BOOST_TEST(!*r.ec);
    BOOST_TEST(pending_seen_by_handler == 0u, "the press is counted as made before it is delivered");
    BOOST_TEST(!board->more_presses_possible(), "nothing more can come: an app without a terminal may end");
}

BOOST_AUTO_TEST_CASE(close_ends_waits_and_lets_the_reactor_drain) {
    fifo_dir d;
    edgeloop::core::reactor reactor;
    auto board = boards::open_board(reactor.executor(), "sim", fifo_options(d.fifo));
    auto& a = board->input("BUTTON_A");
    wait_result r;
    a.async_wait_edge([&](error_code ec, gpio::edge_event e) { r = {ec, e}; });
    reactor.on_stop([&] { board->close(); });
    reactor.stop();
    const auto start = std::chrono::steady_clock::now();
    reactor.run();
    BOOST_TEST(!reactor.forced(), "the FIFO read and the wait were cancelled, nothing held the loop");
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    BOOST_TEST_REQUIRE(r.ec.has_value());
    BOOST_TEST((*r.ec == gpio::error::closed));
    BOOST_TEST(!board->live_input());
}

BOOST_AUTO_TEST_CASE(a_path_that_is_not_a_fifo_is_refused) {
    fifo_dir d;
    std::filesystem::create_directory(d.fifo);
    net::io_context ioc;
    try {
        boards::open_board(ioc.get_executor(), "sim", fifo_options(d.fifo));
        BOOST_FAIL("no error");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find(d.fifo + " exists and is not a FIFO") != std::string::npos,
                   e.what());
    }
}

BOOST_AUTO_TEST_CASE(fifo_presses_start_transfers_and_a_press_during_them_adds_nothing) {
    // What multi_fetch does with button A, from library parts: each press starts every transfer unless
    // transfers are still running, in which case the press adds nothing.
    fifo_dir d;
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    auto board = boards::open_board(ioc.get_executor(), "sim", fifo_options(d.fifo));
    auto& button = board->input("BUTTON_A");
    auto& led = board->output("LED1");

    int batches = 0;
    int ignored = 0;
    std::vector<unsigned> statuses;
    std::vector<error_code> errors;
    const std::vector<std::string> urls{server.url("/200?sleep=1500"), server.url("/400?sleep=300")};
    auto sub = gpio::subscribe(
        button,
        [&](const gpio::edge_event&) {
            if (client.active() > 0) {
                ++ignored;
                return;
            }
            ++batches;
            led.set(true);
            for (const auto& url : urls)
                client.async_fetch(http::request{.url = url}, {},
                                   [&](error_code ec, http::transfer_info info) {
                                       errors.push_back(ec);
                                       statuses.push_back(info.status);
                                       if (client.active() == 0)
                                           led.set(false);
                                   });
            if (batches == 1)
                write_fifo(d.fifo, "BUTTON_A\n"); // pressed again while both transfers run
        },
        true);

    write_fifo(d.fifo, "BUTTON_A\n");
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return statuses.size() == 2; }), "first batch done within 20 s");
    BOOST_TEST(batches == 1);
    BOOST_TEST(ignored == 1, "the press during the transfers added nothing");
    for (const auto& ec : errors)
        BOOST_TEST(!ec, ec.message());
    std::sort(statuses.begin(), statuses.end());
    BOOST_TEST(statuses == (std::vector<unsigned>{200, 400}));
    BOOST_TEST(!led.get());

    // Once they are done, the next press starts them all again.
    write_fifo(d.fifo, "BUTTON_A\n");
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return statuses.size() == 4; }), "second batch done within 20 s");
    BOOST_TEST(batches == 2);
    BOOST_TEST(ignored == 1);
    BOOST_TEST(server.requests_served() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
