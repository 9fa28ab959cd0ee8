// http::multi: ids, per-transfer completion exactly once, cancel one, wait for all, stop everything.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/multi.hpp>

#include <support/fetch.hpp>
#include <support/process.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

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
