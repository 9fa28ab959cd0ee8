// Connection reuse, limits and queueing, TLS session resumption, redirects and the allowlist.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <sstream>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// Access-log lines are "$status $ssl_session_reused $connection $request".
struct log_line {
    std::string status, reused, connection, request;
};

std::vector<log_line> parse_log(const std::string& text) {
    std::vector<log_line> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        log_line l;
        fields >> l.status >> l.reused >> l.connection;
        std::getline(fields, l.request);
        out.push_back(l);
    }
    return out;
}

std::size_t distinct_connections(const std::vector<log_line>& lines) {
    std::set<std::string> ids;
    for (const auto& l : lines)
        ids.insert(l.connection);
    return ids.size();
}

/// Runs `n` transfers of `url` concurrently; returns how many succeeded with 200.
int fetch_many(net::io_context& ioc, http::client& client, const std::string& url, int n,
               std::size_t* max_open_seen = nullptr) {
    int done = 0, ok = 0;
    for (int i = 0; i < n; ++i) {
        http::handlers h;
        h.on_response = [&](const http::response_head&) {
            if (max_open_seen)
                *max_open_seen = std::max(*max_open_seen, client.open_connections());
        };
        client.async_fetch(get(url), std::move(h),
                           [&](boost::system::error_code ec, http::transfer_info info) {
                               ++done;
                               ok += !ec && info.status == 200;
                           });
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (done < n && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    BOOST_REQUIRE_MESSAGE(done == n, "only " << done << " of " << n << " transfers completed");
    return ok;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(sequential_requests_reuse_one_kept_alive_connection) {
    nginx_server nginx;
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    auto first = fetch(ioc, client, get(url));
    BOOST_TEST(!first.info.reused_connection);
    for (int i = 0; i < 9; ++i) {
        auto out = fetch(ioc, client, get(url));
        BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
        BOOST_TEST(out.info.reused_connection);
    }
    BOOST_TEST(client.open_connections() == 1u);
    const auto lines = parse_log(nginx.wait_for_access_log(10, 5s));
    BOOST_TEST(lines.size() == 10u);
    BOOST_TEST(distinct_connections(lines) == 1u);
}

BOOST_AUTO_TEST_CASE(per_host_limit_holds_and_connections_are_reused) {
    nginx_server nginx;
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                        {.pool = {.max_per_host = 10}});
    std::size_t max_open = 0;
    const int ok = fetch_many(
        ioc, client, "https://localhost:" + std::to_string(nginx.https_port()) + "/1k.bin", 200, &max_open);
    BOOST_TEST(ok == 200);
    BOOST_TEST(max_open <= 10u);
    const auto lines = parse_log(nginx.wait_for_access_log(200, 5s));
    BOOST_TEST(distinct_connections(lines) <= 10u);
    BOOST_TEST(distinct_connections(lines) < lines.size());
}

BOOST_AUTO_TEST_CASE(total_limit_queues_transfers_in_order) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.pool = {.max_total = 2}});
    std::size_t max_open = 0;
    BOOST_TEST(fetch_many(ioc, client, server.url("/200?sleep=100"), 6, &max_open) == 6);
    BOOST_TEST(max_open <= 2u);
    BOOST_TEST(server.connections_accepted() <= 2u);
}

BOOST_AUTO_TEST_CASE(queued_transfer_can_be_cancelled) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.pool = {.max_total = 1}});
    boost::system::error_code first_ec = http::error::no_response, second_ec;
    int done = 0;
    net::cancellation_signal cancel;
    client.async_fetch(get(server.url("/200?sleep=500")), {},
                       [&](boost::system::error_code ec, http::transfer_info) {
                           first_ec = ec;
                           ++done;
                       });
    client.async_fetch(
        get(server.url("/200")), {},
        net::bind_cancellation_slot(cancel.slot(), [&](boost::system::error_code ec, http::transfer_info) {
            second_ec = ec;
            ++done;
        }));
    net::post(ioc, [&] { net::post(ioc, [&] { cancel.emit(net::cancellation_type::terminal); }); });
    run_until(
        ioc, [&] { return done == 2; }, 5s);
    BOOST_TEST(done == 2);
    BOOST_TEST(second_ec == net::error::operation_aborted);
    BOOST_TEST(!first_ec);
}

BOOST_AUTO_TEST_CASE(tls_sessions_are_resumed_on_new_connections) {
    nginx_server nginx;
    net::io_context ioc;
    // keep_alive off: every request is a new connection, so only the session cache can save a handshake.
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                        {.pool = {.keep_alive = false}});
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    auto first = fetch(ioc, client, get(url));
    BOOST_TEST(!first.ec, http::describe(first.ec, first.info));
    BOOST_TEST(!first.info.tls_resumed);
    auto second = fetch(ioc, client, get(url));
    BOOST_TEST(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(second.info.tls_resumed);
    BOOST_TEST(client.cached_tls_sessions() == 1u);
    const auto lines = parse_log(nginx.wait_for_access_log(2, 5s));
    BOOST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[0].reused == ".");
    BOOST_TEST(lines[1].reused == "r");
    BOOST_TEST(lines[0].connection != lines[1].connection);
}

BOOST_AUTO_TEST_CASE(session_cache_can_be_switched_off) {
    nginx_server nginx;
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                        {.pool = {.keep_alive = false, .tls_session_cache = false}});
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    fetch(ioc, client, get(url));
    auto second = fetch(ioc, client, get(url));
    BOOST_TEST(!second.ec);
    BOOST_TEST(!second.info.tls_resumed);
    BOOST_TEST(client.cached_tls_sessions() == 0u);
    for (const auto& l : parse_log(nginx.wait_for_access_log(2, 5s)))
        BOOST_TEST(l.reused == ".");
}

BOOST_AUTO_TEST_CASE(http_1_0_server_connection_is_not_reused) {
    openssl_server server({});
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    const auto url = "https://localhost:" + std::to_string(server.port()) + "/";
    fetch(ioc, client, get(url));
    auto second = fetch(ioc, client, get(url));
    BOOST_TEST(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(!second.info.reused_connection);
}

BOOST_AUTO_TEST_CASE(connection_closed_by_the_server_while_idle_is_not_used) {
    net::io_context ioc;
    // Answers one request (keep-alive), then closes the connection while it sits idle in the pool.
    fault_server server(ioc, {fault::answer(fault::ok_response(), fault::close())});
    http::client client(ioc.get_executor());
    const auto url = server.url();
    auto first = fetch(ioc, client, get(url));
    BOOST_TEST(!first.ec, http::describe(first.ec, first.info));
    auto second = fetch(ioc, client, get(url));
    BOOST_TEST(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(second.body == "ok");
    BOOST_TEST(server.accepted() == 2u);
}

BOOST_AUTO_TEST_CASE(redirect_chain_is_followed) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    auto out = fetch(ioc, client, get(server.url("/redirect/3")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.info.redirects == 3u);
    BOOST_TEST(out.info.final_url == server.url("/redirect/0"));
}

BOOST_AUTO_TEST_CASE(redirect_loop_hits_the_hop_limit) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.redirects = {.max_redirects = 4}});
    auto out = fetch(ioc, client, get(server.url("/redirect/50")));
    BOOST_TEST(out.ec == make_error_code(http::error::too_many_redirects), http::describe(out.ec, out.info));
    BOOST_TEST(out.info.redirects == 4u);
}

BOOST_AUTO_TEST_CASE(redirects_are_not_followed_when_off) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.redirects = {.follow = false}});
    auto out = fetch(ioc, client, get(server.url("/redirect/2")));
    BOOST_TEST(!out.ec);
    BOOST_TEST(out.info.status == 302u);
    BOOST_TEST(out.head.header("location") == "/redirect/1");
}

BOOST_AUTO_TEST_CASE(https_to_http_downgrade_is_refused) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    edgeloop::devserver::server plain(ioc.get_executor(), {.tls = false});
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    auto out = fetch(ioc, client, get(server.url("/redirect?to=" + plain.url("/200"))));
    BOOST_TEST(out.ec == make_error_code(http::error::insecure_redirect), http::describe(out.ec, out.info));
    BOOST_TEST(plain.connections_accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(see_other_turns_a_post_into_a_get) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    http::request r;
    r.method = "POST";
    r.url = server.url("/redirect?status=303&to=/bytes/5");
    r.body = "payload";
    auto out = fetch(ioc, client, r);
    // /bytes answers 405 to anything but GET/HEAD: 200 proves the method changed.
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body.size() == 5u);
}

BOOST_AUTO_TEST_CASE(host_outside_the_allowlist_is_refused_before_connecting) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.allowed_hosts = {"localhost"}});
    auto out = fetch(ioc, client, get(server.url("/200"))); // 127.0.0.1
    BOOST_TEST(out.ec == make_error_code(http::error::host_not_allowed), http::describe(out.ec, out.info));
    BOOST_TEST(http::describe(out.ec, out.info).find("127.0.0.1") != std::string::npos);
    BOOST_TEST(server.connections_accepted() == 0u);
    auto ok = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/200"));
    BOOST_TEST(!ok.ec, http::describe(ok.ec, ok.info));
}

BOOST_AUTO_TEST_CASE(redirect_to_a_host_outside_the_allowlist_is_refused) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.allowed_hosts = {"localhost"}});
    const auto start =
        "https://localhost:" + std::to_string(server.port()) + "/redirect?to=" + server.url("/200");
    auto out = fetch(ioc, client, get(start));
    BOOST_TEST(out.ec == make_error_code(http::error::host_not_allowed), http::describe(out.ec, out.info));
    BOOST_TEST(server.connections_accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(credentials_are_not_carried_to_another_origin) {
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    http::request same;
    same.url = server.url("/redirect?to=/headers");
    same.headers = {{"Authorization", "Bearer secret-token"}, {"X-Trace", "kept"}};
    auto out = fetch(ioc, client, same);
    BOOST_TEST(out.body.find("Authorization: Bearer secret-token") != std::string::npos, out.body);

    http::request other = same; // 127.0.0.1 -> localhost: another origin
    other.url = server.url("/redirect?to=https://localhost:" + std::to_string(server.port()) + "/headers");
    auto moved = fetch(ioc, client, other);
    BOOST_TEST(!moved.ec, http::describe(moved.ec, moved.info));
    BOOST_TEST(moved.body.find("Authorization") == std::string::npos, moved.body);
    BOOST_TEST(moved.body.find("X-Trace: kept") != std::string::npos, moved.body);
}

BOOST_AUTO_TEST_SUITE_END()
