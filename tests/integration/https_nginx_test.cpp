// GET over https and http against a real nginx started by the test.
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

struct nginx_fixture {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};

    std::string https(const std::string& path) const {
        return "https://localhost:" + std::to_string(nginx.https_port()) + path;
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(https_nginx, nginx_fixture)

BOOST_AUTO_TEST_CASE(get_over_https_verifies_the_server_and_delivers_the_body) {
    auto out = fetch(ioc, client, get(https("/hello.txt")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
    BOOST_TEST(out.info.body_bytes == out.body.size());
    BOOST_TEST(out.head_seen);
    BOOST_TEST(out.head.header("content-length") == "17");
    BOOST_TEST(out.done_calls == 1);
}

BOOST_AUTO_TEST_CASE(get_over_plain_http) {
    auto out =
        fetch(ioc, client, get("http://127.0.0.1:" + std::to_string(nginx.http_port()) + "/hello.txt"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
}

BOOST_AUTO_TEST_CASE(ip_address_url_is_verified_against_the_certificate_ip) {
    auto out =
        fetch(ioc, client, get("https://127.0.0.1:" + std::to_string(nginx.https_port()) + "/hello.txt"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(large_body_arrives_in_several_bounded_chunks_byte_identical) {
    auto out = fetch(ioc, client, get(https("/100k.bin")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body.size() == 102400u);
    BOOST_TEST(out.body == read_file(nginx.docroot() + "/100k.bin"));
    BOOST_TEST(out.chunk_times.size() >= 102400u / client.options().limits.body_chunk_bytes);
}

BOOST_AUTO_TEST_CASE(missing_file_is_a_successful_transfer_with_status_404) {
    auto out = fetch(ioc, client, get(https("/no-such-file")));
    BOOST_TEST(!out.ec);
    BOOST_TEST(out.info.status == 404u);
}

BOOST_AUTO_TEST_CASE(post_with_body_gets_the_json_answer) {
    http::request r;
    r.method = "POST";
    r.url = https("/topics/demo?qos=1");
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({ "message": "Hello, world" })";
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body.find("\"message\":\"OK\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(oversized_response_header_is_its_own_error) {
    http::client small(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                       {.limits = {.max_header_bytes = 64}});
    auto out = fetch(ioc, small, get(https("/hello.txt")));
    BOOST_TEST(out.ec == make_error_code(http::error::header_too_large), http::describe(out.ec, out.info));
    BOOST_TEST(out.body.empty());
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_is_its_own_error) {
    http::client small(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                       {.limits = {.max_body_bytes = 1000}});
    auto out = fetch(ioc, small, get(https("/100k.bin")));
    BOOST_TEST(out.ec == make_error_code(http::error::body_too_large), http::describe(out.ec, out.info));
    BOOST_TEST(out.body.size() <= 1000u);
}

BOOST_AUTO_TEST_CASE(https_url_without_tls_context_fails_clearly) {
    http::client plain(ioc.get_executor());
    auto out = fetch(ioc, plain, get(https("/hello.txt")));
    BOOST_TEST(out.ec == make_error_code(tls::error::handshake_failed));
}

BOOST_AUTO_TEST_CASE(invalid_url_fails_without_completing_inline) {
    bool done = false;
    client.async_fetch(get("not a url"), {}, [&](boost::system::error_code ec, http::transfer_info) {
        done = true;
        BOOST_TEST(ec == make_error_code(http::error::invalid_url));
    });
    BOOST_TEST(!done);
    run_until(
        ioc, [&] { return done; }, std::chrono::seconds(5));
    BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(no_socket_is_left_open_after_transfers) {
    // Runs the loop until the client has no transfer and `open` connections (a connection is counted
    // until its socket is closed, graceful TLS shutdown included), instead of for a fixed time.
    const auto settle = [&](std::size_t open) {
        return run_until(
            ioc, [&] { return client.active() == 0 && client.open_connections() == open; },
            std::chrono::seconds(10));
    };
    fetch(ioc, client, get(https("/hello.txt"))); // warm-up: lazily opened descriptors
    BOOST_TEST_REQUIRE(settle(1), "the warm-up's connection is kept alive");
    const int before = count_open_fds();
    for (int i = 0; i < 5; ++i)
        fetch(ioc, client, get(https("/hello.txt")));
    fetch(ioc, client, get("https://localhost:" + std::to_string(free_port()) + "/"));
    BOOST_TEST_REQUIRE(settle(1), "the refused connection is gone, the kept-alive one reused");
    BOOST_TEST(count_open_fds() == before);
    // Closing the kept-alive connection gives its socket back.
    client.cancel_all();
    BOOST_TEST_REQUIRE(settle(0));
    BOOST_TEST(count_open_fds() == before - 1);
}

BOOST_AUTO_TEST_SUITE_END()
