// The embedded devserver's endpoints, exercised through the client.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>
#include <support/process.hpp>

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

struct devserver_fixture {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    http::client client{ioc.get_executor(), tls::context({.ca_file = server.ca_file()})};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(devserver, devserver_fixture)

BOOST_AUTO_TEST_CASE(status_endpoint_answers_that_status) {
    for (unsigned status : {200u, 400u, 503u}) {
        auto out = fetch(ioc, client, get(server.url("/" + std::to_string(status))));
        BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
        BOOST_TEST(out.info.status == status);
    }
}

BOOST_AUTO_TEST_CASE(sleep_delays_the_answer_without_blocking_the_loop) {
    // Two requests on one loop: the short one must not wait for the long one.
    int done = 0;
    std::chrono::steady_clock::time_point fast_done, slow_done;
    const auto start = std::chrono::steady_clock::now();
    client.async_fetch(get(server.url("/200?sleep=1500")), {},
                       [&](boost::system::error_code ec, http::transfer_info) {
                           BOOST_TEST(!ec);
                           slow_done = std::chrono::steady_clock::now();
                           ++done;
                       });
    client.async_fetch(get(server.url("/200?sleep=100")), {},
                       [&](boost::system::error_code ec, http::transfer_info) {
                           BOOST_TEST(!ec);
                           fast_done = std::chrono::steady_clock::now();
                           ++done;
                       });
    while (done < 2 && std::chrono::steady_clock::now() - start < 10s)
        ioc.run_one_for(1s);
    BOOST_REQUIRE(done == 2);
    BOOST_TEST((slow_done - start >= 1500ms));
    BOOST_TEST((fast_done < slow_done));
}

BOOST_AUTO_TEST_CASE(bytes_endpoint_returns_exactly_n_bytes) {
    auto out = fetch(ioc, client, get(server.url("/bytes/300000")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body.size() == 300000u);
    BOOST_TEST(out.info.body_bytes == 300000u);
}

BOOST_AUTO_TEST_CASE(drip_streams_chunks_over_time) {
    auto out = fetch(ioc, client, get(server.url("/drip?chunks=5&interval_ms=100&size=10")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body.size() == 50u);
    BOOST_TEST(out.chunk_times.size() >= 3u);
    BOOST_TEST(out.head.header("transfer-encoding") == "chunked");
}

BOOST_AUTO_TEST_CASE(topics_post_answers_aws_style_json) {
    http::request r;
    r.method = "POST";
    r.url = server.url("/topics/demo?qos=1");
    r.body = R"({ "message": "Hello, world" })";
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body.find(R"("message":"OK")") != std::string::npos);
    BOOST_TEST(out.body.find(R"("traceId":")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404) {
    auto out = fetch(ioc, client, get(server.url("/no/such/thing")));
    BOOST_TEST(out.info.status == 404u);
}

BOOST_AUTO_TEST_CASE(async_fetch_works_with_co_await) {
    unsigned status = 0;
    bool threw_for_refused = false;
    const auto refused_url = "https://127.0.0.1:" + std::to_string(edgeloop::test::free_port()) + "/";
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
            auto info = co_await client.async_fetch(get(server.url("/201")), {}, boost::asio::use_awaitable);
            status = info.status;
            try {
                co_await client.async_fetch(get(refused_url), {}, boost::asio::use_awaitable);
            } catch (const boost::system::system_error& e) {
                threw_for_refused = e.code() == make_error_code(http::error::connection_refused);
            }
        },
        boost::asio::detached);
    run_until(
        ioc, [&] { return threw_for_refused; }, 10s);
    BOOST_TEST(status == 201u);
    BOOST_TEST(threw_for_refused);
}

BOOST_AUTO_TEST_CASE(async_fetch_works_with_use_future_from_another_thread) {
    std::thread loop([&] { ioc.run_for(10s); });
    auto fut = client.async_fetch(get(server.url("/202")), {}, boost::asio::use_future);
    const auto status = fut.wait_for(10s);
    const bool ready = status == std::future_status::ready;
    unsigned got = ready ? fut.get().status : 0;
    boost::asio::post(ioc, [&] { ioc.stop(); });
    loop.join();
    BOOST_TEST(ready);
    BOOST_TEST(got == 202u);
}

BOOST_AUTO_TEST_SUITE_END()
