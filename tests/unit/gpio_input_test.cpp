// gpio::input: queueing, completion tokens, cancellation, close; gpio::subscribe.
#include <edgeloop/gpio/input.hpp>

#include <edgeloop/gpio/error.hpp>
#include <edgeloop/gpio/subscription.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

namespace gpio = edgeloop::gpio;
namespace net = boost::asio;
using boost::system::error_code;

namespace {

/// An input whose edges the test makes.
class test_input final : public gpio::input {
public:
    explicit test_input(net::any_io_executor ex)
        : gpio::input(std::move(ex), "BUTTON_A", false) {}

    void edge(gpio::edge e, std::uint64_t sequence, std::uint64_t lost = 0) {
        gpio::edge_event ev;
        ev.line = 12;
        ev.edge = e;
        ev.sequence = sequence;
        ev.lost = lost;
        deliver(ev);
    }
    void press(std::uint64_t sequence) { edge(gpio::edge::rising, sequence); }
    void release(std::uint64_t sequence) { edge(gpio::edge::falling, sequence); }
    void source_ended() { close_from_source(); }
    void lost_in_between(std::uint64_t n) { add_lost(n); }
    int source_closes = 0;

private:
    void close_source() override { ++source_closes; }
};

struct result {
    std::optional<error_code> ec;
    gpio::edge_event event;
};

auto capture(result& r) {
    return [&r](error_code ec, gpio::edge_event e) {
        r.ec = ec;
        r.event = e;
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(gpio_input)

BOOST_AUTO_TEST_CASE(an_edge_that_came_before_the_wait_is_not_missed) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    in.press(1);
    BOOST_TEST(in.active());
    result r;
    in.async_wait_edge(capture(r));
    BOOST_TEST(!r.ec.has_value(), "never completes inside the initiating call");
    ioc.run();
    BOOST_TEST_REQUIRE(r.ec.has_value());
    BOOST_TEST(!*r.ec);
    BOOST_TEST(r.event.pressed());
    BOOST_TEST(r.event.sequence == 1u);
    BOOST_TEST(r.event.line == 12u);
}

BOOST_AUTO_TEST_CASE(a_pending_wait_gets_the_next_edge) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    result r;
    in.async_wait_edge(capture(r));
    ioc.poll();
    BOOST_TEST(!r.ec.has_value());
    in.release(5);
    ioc.run();
    BOOST_TEST_REQUIRE(r.ec.has_value());
    BOOST_TEST((r.event.edge == gpio::edge::falling));
    BOOST_TEST(!in.active());
}

BOOST_AUTO_TEST_CASE(wait_press_discards_releases) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    in.release(1);
    in.press(2);
    in.release(3);
    result r;
    in.async_wait_press(capture(r));
    ioc.run();
    BOOST_TEST(r.event.sequence == 2u);
    // The release queued after the press goes too when the next wait asks for presses only.
    result r2;
    in.async_wait_press(capture(r2));
    ioc.restart();
    ioc.poll();
    BOOST_TEST(!r2.ec.has_value());
    in.release(4);
    in.press(5);
    ioc.run();
    BOOST_TEST(r2.event.sequence == 5u);
}

BOOST_AUTO_TEST_CASE(cancel_aborts_the_wait_and_keeps_queued_edges) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    result r;
    in.async_wait_edge(capture(r));
    in.cancel();
    ioc.run();
    BOOST_TEST((*r.ec == net::error::operation_aborted));
    in.press(1);
    result r2;
    in.async_wait_edge(capture(r2));
    ioc.restart();
    ioc.run();
    BOOST_TEST(!*r2.ec);
    BOOST_TEST(r2.event.sequence == 1u);
}

BOOST_AUTO_TEST_CASE(a_bound_cancellation_slot_aborts_the_wait) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    net::cancellation_signal signal;
    result r;
    in.async_wait_edge(net::bind_cancellation_slot(signal.slot(), capture(r)));
    signal.emit(net::cancellation_type::terminal);
    ioc.run();
    BOOST_TEST((*r.ec == net::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(a_second_concurrent_wait_fails_and_the_first_stays) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    result first, second;
    in.async_wait_edge(capture(first));
    in.async_wait_edge(capture(second));
    ioc.poll();
    BOOST_TEST((*second.ec == gpio::error::wait_pending));
    BOOST_TEST(!first.ec.has_value());
    in.press(1);
    ioc.run();
    BOOST_TEST(!*first.ec);
}

BOOST_AUTO_TEST_CASE(close_ends_pending_and_later_waits) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    result r;
    in.async_wait_edge(capture(r));
    in.close();
    in.close();
    BOOST_TEST(in.source_closes == 1, "the source is closed once");
    in.press(1);
    ioc.run();
    BOOST_TEST((*r.ec == gpio::error::closed));
    result later;
    in.async_wait_edge(capture(later));
    ioc.restart();
    ioc.run();
    BOOST_TEST((*later.ec == gpio::error::closed));
    BOOST_TEST(in.is_closed());
}

BOOST_AUTO_TEST_CASE(a_source_that_ends_closes_the_input) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    result r;
    in.async_wait_edge(capture(r));
    in.source_ended();
    ioc.run();
    BOOST_TEST((*r.ec == gpio::error::closed));
}

BOOST_AUTO_TEST_CASE(a_full_queue_drops_the_oldest_and_says_so) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    for (std::uint64_t i = 1; i <= gpio::input::queue_limit + 3; ++i)
        in.press(i);
    BOOST_TEST(in.lost_events() == 3u);
    result r;
    in.async_wait_edge(capture(r));
    ioc.run();
    BOOST_TEST(r.event.sequence == 4u);
    BOOST_TEST(r.event.lost == 3u);
}

BOOST_AUTO_TEST_CASE(lost_events_reported_by_the_driver_are_counted) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    in.edge(gpio::edge::rising, 9, 4);
    BOOST_TEST(in.lost_events() == 4u);
}

BOOST_AUTO_TEST_CASE(lost_events_no_edge_carries_are_counted_at_once_and_carried_by_the_next_edge) {
    // A debouncer between the driver and the input holds lost counts until its next clean edge: the
    // driver counts them in the input itself, once.
    net::io_context ioc;
    test_input in(ioc.get_executor());
    in.lost_in_between(2);
    BOOST_TEST(in.lost_events() == 2u, "counted before any edge comes");
    in.lost_in_between(1);
    in.edge(gpio::edge::rising, 1, 4);
    BOOST_TEST(in.lost_events() == 7u);
    in.release(2);
    BOOST_TEST(in.lost_events() == 7u, "counted once");
    result first;
    in.async_wait_edge(capture(first));
    ioc.run();
    BOOST_TEST(first.event.lost == 7u, "the next edge carries what was lost before it");
    result second;
    in.async_wait_edge(capture(second));
    ioc.restart();
    ioc.run();
    BOOST_TEST(second.event.lost == 0u);
}

BOOST_AUTO_TEST_CASE(lost_events_before_a_release_a_press_wait_discards_go_to_the_press) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    result r;
    in.async_wait_press(capture(r));
    in.lost_in_between(3);
    in.release(5); // discarded by the pending press wait
    in.press(6);
    ioc.run();
    BOOST_TEST_REQUIRE(r.ec.has_value());
    BOOST_TEST(r.event.sequence == 6u);
    BOOST_TEST(r.event.lost == 3u);
    BOOST_TEST(in.lost_events() == 3u);
}

BOOST_AUTO_TEST_CASE(destroying_the_input_aborts_its_wait) {
    net::io_context ioc;
    result r;
    {
        test_input in(ioc.get_executor());
        in.async_wait_edge(capture(r));
    }
    ioc.run();
    BOOST_TEST((*r.ec == net::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(works_with_use_awaitable) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    std::uint64_t got = 0;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            auto e = co_await in.async_wait_press(net::use_awaitable);
            got = e.sequence;
        },
        net::detached);
    ioc.poll();
    in.press(3);
    ioc.run();
    BOOST_TEST(got == 3u);
}

BOOST_AUTO_TEST_CASE(subscribe_calls_back_for_every_press_until_cancelled) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    std::vector<std::uint64_t> seen;
    auto sub = gpio::subscribe(
        in, [&](const gpio::edge_event& e) { seen.push_back(e.sequence); }, true);
    in.press(1);
    in.release(2);
    in.press(3);
    ioc.poll();
    BOOST_TEST(seen == (std::vector<std::uint64_t>{1, 3}));
    BOOST_TEST(sub.active());
    sub.cancel();
    in.press(4);
    ioc.run();
    BOOST_TEST(seen.size() == 2u);
    BOOST_TEST(!sub.active());
}

BOOST_AUTO_TEST_CASE(a_subscription_ends_when_the_input_closes) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    int calls = 0;
    auto sub = gpio::subscribe(in, [&](const gpio::edge_event&) { ++calls; });
    in.close();
    ioc.run();
    BOOST_TEST(calls == 0);
    BOOST_TEST(!sub.active());
}

BOOST_AUTO_TEST_CASE(destroying_a_subscription_stops_it) {
    net::io_context ioc;
    test_input in(ioc.get_executor());
    int calls = 0;
    {
        auto sub = gpio::subscribe(in, [&](const gpio::edge_event&) { ++calls; });
    }
    in.press(1);
    ioc.run();
    BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_SUITE_END()
