// Each deadline fires with its own error, provoked by stalls (never by sleeping in the test), and
// cancellation completes with operation_aborted.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

struct devserver_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};

    http::client make_client(http::timeouts t) {
        return http::client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}), {.timeouts = t});
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(deadlines, devserver_fixture)

BOOST_AUTO_TEST_CASE(connection_refused_is_named) {
    auto client = make_client({});
    auto out = fetch(ioc, client, get("https://127.0.0.1:" + std::to_string(free_port()) + "/"));
    BOOST_TEST(out.ec == make_error_code(http::error::connection_refused), http::describe(out.ec, out.info));
    BOOST_TEST(http::describe(out.ec, out.info).find("127.0.0.1:") == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_host_fails_resolution) {
    auto client = make_client({.resolve = 3s});
    auto out = fetch(ioc, client, get("https://no-such-host.invalid/"));
    // Without a reachable DNS server the resolver may not answer at all: then its deadline names it.
    BOOST_TEST((out.ec == make_error_code(http::error::resolve_failed) ||
                out.ec == make_error_code(http::error::resolve_timeout)),
               http::describe(out.ec, out.info));
    BOOST_TEST(http::describe(out.ec, out.info).find("no-such-host.invalid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(connect_deadline_fires_on_a_full_accept_queue) {
    fault_server stalled(ioc, {fault::serve_ok()}, {.accept = false});
    auto client = make_client({.connect = 300ms});
    auto out = fetch(ioc, client, get("https://127.0.0.1:" + std::to_string(stalled.port()) + "/"));
    BOOST_TEST(out.ec == make_error_code(http::error::connect_timeout), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(handshake_deadline_fires_when_the_server_never_speaks_tls) {
    fault_server silent(ioc, {{fault::stall()}});
    auto client = make_client({.handshake = 300ms});
    auto out = fetch(ioc, client, get("https://127.0.0.1:" + std::to_string(silent.port()) + "/"));
    BOOST_TEST(out.ec == make_error_code(http::error::handshake_timeout), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(response_head_deadline) {
    auto client = make_client({.response_head = 300ms});
    auto out = fetch(ioc, client, get(server.url("/200?sleep=5000")));
    BOOST_TEST(out.ec == make_error_code(http::error::response_head_timeout),
               http::describe(out.ec, out.info));
    BOOST_TEST(out.info.elapsed < 4000ms);
}

BOOST_AUTO_TEST_CASE(idle_deadline_between_body_bytes) {
    auto client = make_client({.idle = 300ms});
    auto out = fetch(ioc, client, get(server.url("/drip?chunks=3&interval_ms=3000")));
    BOOST_TEST(out.ec == make_error_code(http::error::idle_timeout), http::describe(out.ec, out.info));
    BOOST_TEST(out.head_seen);
}

BOOST_AUTO_TEST_CASE(total_deadline_covers_the_whole_transfer) {
    auto client = make_client({.idle = 5s, .total = 700ms});
    auto out = fetch(ioc, client, get(server.url("/drip?chunks=20&interval_ms=200")));
    BOOST_TEST(out.ec == make_error_code(http::error::total_timeout), http::describe(out.ec, out.info));
    BOOST_TEST(!out.body.empty());
}

BOOST_AUTO_TEST_CASE(body_streams_before_the_transfer_ends) {
    auto client = make_client({});
    auto out = fetch(ioc, client, get(server.url("/drip?chunks=4&interval_ms=250")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_REQUIRE(out.chunk_times.size() >= 2u);
    // The first piece was in the caller's hands while the server was still sending.
    BOOST_TEST((out.done_time - out.chunk_times.front() >= 400ms));
}

BOOST_AUTO_TEST_CASE(cancellation_slot_aborts_a_running_transfer) {
    auto client = make_client({});
    net::cancellation_signal cancel;
    boost::system::error_code result;
    bool done = false;
    http::handlers h;
    h.on_response = [&](const http::response_head&) { cancel.emit(net::cancellation_type::terminal); };
    client.async_fetch(
        get(server.url("/drip?chunks=10&interval_ms=500")), std::move(h),
        net::bind_cancellation_slot(cancel.slot(), [&](boost::system::error_code ec, http::transfer_info) {
            result = ec;
            done = true;
        }));
    run_until(
        ioc, [&] { return done; }, 3s);
    BOOST_TEST(done);
    BOOST_TEST(result == net::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(cancel_all_aborts_every_transfer_once) {
    auto client = make_client({});
    int completions = 0, aborted = 0;
    for (int i = 0; i < 3; ++i)
        client.async_fetch(get(server.url("/200?sleep=5000")), {},
                           [&](boost::system::error_code ec, http::transfer_info) {
                               ++completions;
                               aborted += ec == net::error::operation_aborted;
                           });
    net::steady_timer t(ioc, 200ms);
    t.async_wait([&](boost::system::error_code) {
        BOOST_TEST(client.active() == 3u);
        client.cancel_all();
    });
    run_until(
        ioc, [&] { return completions == 3; }, 3s);
    BOOST_TEST(completions == 3);
    BOOST_TEST(aborted == 3);
    BOOST_TEST(client.active() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
