// The reactor's graceful stop cancels running transfers (operation_aborted) and drains the loop.
#include <edgeloop/core/reactor.hpp>
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(reactor)

BOOST_AUTO_TEST_CASE(stop_mid_transfer_cancels_it_and_run_returns) {
    edgeloop::core::reactor r;
    edgeloop::devserver::server server(r.executor());
    http::client client(r.executor(), tls::context({.ca_file = server.ca_file()}));
    r.on_stop([&] {
        client.cancel_all();
        server.stop();
    });
    boost::system::error_code result;
    int completions = 0;
    http::handlers h;
    h.on_body = [&](std::span<const std::byte>) { r.stop(); };
    client.async_fetch(http::request{.url = server.url("/drip?chunks=50&interval_ms=200")}, std::move(h),
                       [&](boost::system::error_code ec, http::transfer_info) {
                           result = ec;
                           ++completions;
                       });
    const auto start = std::chrono::steady_clock::now();
    r.run();
    BOOST_TEST(completions == 1);
    BOOST_TEST(result == net::error::operation_aborted);
    BOOST_TEST(r.stopping());
    BOOST_TEST(!r.forced());
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(sigterm_begins_a_graceful_stop) {
    edgeloop::core::reactor r;
    bool stop_handler_ran = false;
    r.on_stop([&] { stop_handler_ran = true; });
    net::post(r.context(), [] { std::raise(SIGTERM); });
    r.run();
    BOOST_TEST(stop_handler_ran);
    BOOST_TEST(r.stop_signal() == SIGTERM);
    BOOST_TEST(!r.forced());
}

BOOST_AUTO_TEST_CASE(deadline_forces_a_loop_that_does_not_drain) {
    edgeloop::core::reactor r(200ms);
    net::steady_timer stubborn(r.context(), 1h); // ignores the stop
    stubborn.async_wait([](boost::system::error_code) {});
    r.stop();
    const auto start = std::chrono::steady_clock::now();
    r.run();
    BOOST_TEST(r.forced());
    BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_SUITE_END()
