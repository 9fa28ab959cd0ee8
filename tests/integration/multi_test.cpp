// http::multi: ids, per-transfer completion exactly once, cancel one, wait for all, stop everything.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/multi.hpp>

#include <support/fetch.hpp>
#include <support/process.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <vector>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

struct multi_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    http::client client{
        ioc.get_executor(), tls::context({.ca_file = server.ca_file()}), {.pool = {.max_per_host = 4}}};
    http::multi m{client};
    std::map<http::multi::id, int> done_calls;
    std::map<http::multi::id, boost::system::error_code> results;

    http::multi::id add(const std::string& path) {
        auto id = std::make_shared<http::multi::id>(0);
        *id = m.add({.req = {.url = server.url(path)},
                     .on_done = [this, id](const boost::system::error_code& ec, const http::transfer_info&) {
                         ++done_calls[*id];
                         results[*id] = ec;
                     }});
        return *id;
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(multi, multi_fixture)

BOOST_AUTO_TEST_CASE(every_transfer_completes_once_and_wait_all_follows) {
    std::vector<http::multi::id> ids;
    for (int i = 0; i < 8; ++i)
        ids.push_back(add(i % 2 ? "/200?sleep=50" : "/bytes/1000"));
    ids.push_back(add("/404"));
    const auto refused =
        m.add({.req = {.url = "https://127.0.0.1:" + std::to_string(edgeloop::test::free_port()) + "/"},
               .on_done = [&](const boost::system::error_code& ec, const http::transfer_info&) {
                   results[0] = ec;
               }});
    BOOST_TEST(refused != 0u);
    BOOST_TEST(m.running() == 10u);
    bool all_done = false;
    m.async_wait_all([&](boost::system::error_code ec) {
        BOOST_TEST(!ec);
        all_done = true;
        BOOST_TEST(m.running() == 0u);
    });
    edgeloop::test::run_until(
        ioc, [&] { return all_done; }, 20s);
    BOOST_TEST(all_done);
    for (auto id : ids) {
        BOOST_TEST(done_calls[id] == 1);
        BOOST_TEST(!results[id]);
    }
    BOOST_TEST(results[0] == make_error_code(http::error::connection_refused));
}

BOOST_AUTO_TEST_CASE(cancel_one_leaves_the_others_running) {
    const auto slow = add("/200?sleep=3000");
    const auto quick = add("/200?sleep=100");
    BOOST_TEST(m.cancel(slow));
    bool all_done = false;
    m.async_wait_all([&](boost::system::error_code) { all_done = true; });
    edgeloop::test::run_until(
        ioc, [&] { return all_done; }, 10s);
    BOOST_TEST(all_done);
    BOOST_TEST(results[slow] == net::error::operation_aborted);
    BOOST_TEST(!results[quick]);
    BOOST_TEST(done_calls[slow] == 1);
    BOOST_TEST(!m.cancel(slow));
}

BOOST_AUTO_TEST_CASE(stop_cancels_running_and_queued_transfers) {
    std::vector<http::multi::id> ids;
    for (int i = 0; i < 10; ++i) // 4 run (per-host limit), 6 wait in the queue
        ids.push_back(add("/200?sleep=5000"));
    net::post(ioc, [&] { net::post(ioc, [&] { m.stop(); }); });
    bool all_done = false;
    m.async_wait_all([&](boost::system::error_code) { all_done = true; });
    edgeloop::test::run_until(
        ioc, [&] { return all_done; }, 10s);
    BOOST_TEST(all_done);
    for (auto id : ids) {
        BOOST_TEST(done_calls[id] == 1);
        BOOST_TEST(results[id] == net::error::operation_aborted);
    }
}

BOOST_AUTO_TEST_CASE(wait_all_with_nothing_running_completes_but_not_inline) {
    bool done = false;
    m.async_wait_all([&](boost::system::error_code) { done = true; });
    BOOST_TEST(!done);
    edgeloop::test::run_until(
        ioc, [&] { return done; }, 1s);
    BOOST_TEST(done);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// One connection at a time and a queue of 2: most of the transfers added must wait for room.
struct bounded_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    http::client client{ioc.get_executor(),
                        tls::context({.ca_file = server.ca_file()}),
                        {.pool = {.max_total = 1, .max_queued = 2}}};
    http::multi m{client};
    std::size_t accepted = 0;
    std::size_t finished = 0;
    std::size_t most_outstanding = 0; ///< accepted and not finished, at each acceptance
    std::vector<http::multi::id> accepted_ids;
    std::vector<boost::system::error_code> accept_results;
    std::map<http::multi::id, boost::system::error_code> results;

    http::transfer make(const std::string& path) {
        return {.req = {.url = server.url(path)},
                .on_done = [this](const boost::system::error_code& ec, const http::transfer_info& info) {
                    ++finished;
                    results[std::stoull(info.url.substr(info.url.rfind('=') + 1))] = ec;
                }};
    }
    auto on_accepted() {
        return [this](boost::system::error_code ec, http::multi::id id) {
            accept_results.push_back(ec);
            if (ec)
                return;
            ++accepted;
            accepted_ids.push_back(id);
            most_outstanding = std::max(most_outstanding, accepted - finished);
        };
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(multi_bounded_queue, bounded_fixture)

BOOST_AUTO_TEST_CASE(async_add_beyond_the_bound_waits_and_keeps_order) {
    constexpr std::size_t n = 12;
    for (std::size_t i = 1; i <= n; ++i) // the query names the id the transfer will get (1, 2, ...)
        m.async_add(make("/bytes/100?n=" + std::to_string(i)), on_accepted());
    BOOST_TEST(accept_results.empty()); // never inline
    BOOST_TEST(m.waiting_to_add() == n);
    bool all_done = false;
    m.async_wait_all([&](boost::system::error_code ec) {
        BOOST_TEST(!ec);
        all_done = true;
    });
    edgeloop::test::run_until(
        ioc, [&] { return all_done; }, 20s);
    BOOST_TEST(all_done);
    BOOST_TEST(accepted == n);
    BOOST_TEST(finished == n);
    // 1 running + 2 queued (+1: a transfer still counts until its on_done, after its slot is freed).
    BOOST_TEST(most_outstanding <= 4u);
    for (std::size_t i = 0; i < accepted_ids.size(); ++i)
        BOOST_TEST(accepted_ids[i] == i + 1); // accepted in the order added
    for (const auto& [id, ec] : results)
        BOOST_TEST(!ec, "transfer " << id << ": " << ec.message());
    BOOST_TEST(results.size() == n);
}

BOOST_AUTO_TEST_CASE(add_on_a_full_queue_fails_with_queue_full) {
    for (int i = 1; i <= 4; ++i) // 1 runs, 2 wait, the 4th finds the queue full
        m.add(make("/200?sleep=200&n=" + std::to_string(i)));
    bool all_done = false;
    m.async_wait_all([&](boost::system::error_code) { all_done = true; });
    edgeloop::test::run_until(
        ioc, [&] { return all_done; }, 20s);
    BOOST_TEST(all_done);
    BOOST_TEST(!results[1]);
    BOOST_TEST(!results[2]);
    BOOST_TEST(!results[3]);
    BOOST_TEST(results[4] == make_error_code(http::error::queue_full));
}

BOOST_AUTO_TEST_CASE(cancelling_a_waiting_async_add_never_starts_the_transfer) {
    for (int i = 1; i <= 3; ++i)
        m.async_add(make("/200?sleep=200&n=" + std::to_string(i)), on_accepted());
    net::cancellation_signal signal;
    boost::system::error_code fourth_ec;
    http::multi::id fourth_id = 0;
    bool fourth_done = false;
    m.async_add(
        make("/200?sleep=200&n=4"),
        net::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, http::multi::id id) {
            fourth_ec = ec;
            fourth_id = id;
            fourth_done = true;
        }));
    // Once the first three are accepted (the queue is full), the fourth is still waiting: cancel it.
    edgeloop::test::run_until(
        ioc, [&] { return accepted == 3; }, 10s);
    BOOST_TEST(m.waiting_to_add() == 1u);
    signal.emit(net::cancellation_type::terminal);
    BOOST_TEST(!fourth_done); // posted, not inside the emit
    bool all_done = false;
    m.async_wait_all([&](boost::system::error_code) { all_done = true; });
    edgeloop::test::run_until(
        ioc, [&] { return all_done; }, 20s);
    BOOST_TEST(all_done);
    BOOST_TEST(fourth_done);
    BOOST_TEST(fourth_ec == net::error::operation_aborted);
    BOOST_TEST(fourth_id == 4u);
    BOOST_TEST(finished == 3u); // the fourth's on_done never ran
    BOOST_TEST(results.count(4) == 0u);
    BOOST_TEST(!m.cancel(4));
}

BOOST_AUTO_TEST_SUITE_END()
