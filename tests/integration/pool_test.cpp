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
#include <filesystem>
#include <fstream>
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

BOOST_AUTO_TEST_CASE(queued_upload_whose_file_went_missing_fails_alone) {
    // The queue hands the second upload the first one's kept-alive connection; sending its request fails
    // on the spot (the file is gone), which completes the transfer while the queue is being walked.
    net::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}),
                        {.pool = {.max_per_host = 1}});
    const auto dir = make_temp_dir("edgeloop-pool");
    const auto first_file = dir + "/first.bin", second_file = dir + "/second.bin";
    std::ofstream(first_file, std::ios::binary) << test_bytes(5000);
    std::ofstream(second_file, std::ios::binary) << test_bytes(7000);
    fetch_outcome first, second, third;
    http::request a;
    a.method = "POST";
    a.url = server.url("/echo");
    a.body_file = first_file;
    http::request b = a;
    b.body_file = second_file;
    auto first_handlers = edgeloop::test::detail::recording_handlers(first);
    first_handlers.on_response = [&](const http::response_head&) {
        // The second upload (and the third transfer) wait for the host's only connection now: take its
        // file away.
        BOOST_TEST(client.active() == 3u);
        std::filesystem::remove(second_file);
    };
    client.async_fetch(a, std::move(first_handlers), edgeloop::test::detail::recording_completion(first));
    client.async_fetch(b, edgeloop::test::detail::recording_handlers(second),
                       edgeloop::test::detail::recording_completion(second));
    // A third one queued behind it still gets the connection.
    client.async_fetch(get(server.url("/bytes/10")), edgeloop::test::detail::recording_handlers(third),
                       edgeloop::test::detail::recording_completion(third));
    run_until(
        ioc, [&] { return first.done && second.done && third.done; }, 10s);
    std::filesystem::remove_all(dir);
    BOOST_REQUIRE(first.done && second.done && third.done);
    BOOST_TEST(!first.ec, http::describe(first.ec, first.info));
    BOOST_TEST(first.body.size() == 5000u);
    BOOST_TEST(second.ec == make_error_code(http::error::request_body_unreadable),
               http::describe(second.ec, second.info));
    BOOST_TEST(second.done_calls == 1);
    BOOST_TEST(!third.ec, http::describe(third.ec, third.info));
    BOOST_TEST(third.body.size() == 10u);
    BOOST_TEST(client.active() == 0u);
}

BOOST_AUTO_TEST_CASE(per_host_limit_counts_every_port_of_a_host) {
    // max_per_host is per host, not per origin: two servers on two ports of 127.0.0.1 share it.
    net::io_context ioc;
    fault_server stalled(ioc, {{fault::read_request(), fault::stall()}});
    fault_server other(ioc, {fault::serve_ok()});
    http::client client(ioc.get_executor(), {.pool = {.max_per_host = 1}});
    fetch_outcome held, queued;
    client.async_fetch(get(stalled.url()), {}, edgeloop::test::detail::recording_completion(held));
    client.async_fetch(get(other.url()), {}, edgeloop::test::detail::recording_completion(queued));
    run_until(
        ioc, [&] { return stalled.requests() == 1u; }, 5s);
    BOOST_TEST(stalled.requests() == 1u);
    BOOST_TEST(other.accepted() == 0u);
    BOOST_TEST(!queued.done);
    client.cancel_all();
    run_until(
        ioc, [&] { return held.done && queued.done; }, 5s);
    BOOST_TEST(held.ec == net::error::operation_aborted);
    BOOST_TEST(queued.ec == net::error::operation_aborted);
    BOOST_TEST(other.accepted() == 0u);
}

// --- a kept-alive connection closed by the server as a request is sent on it (request::replayable) ---

namespace {

/// Answers the first request of a connection (keep-alive), then closes it when the next request arrives
/// without answering: the stale-connection case. Later connections answer every request.
std::vector<fault_step> closes_on_second_request() {
    return {{fault::read_request(), fault::send(fault::ok_response()), fault::read_request(), fault::close()},
            fault::serve_ok()};
}

} // namespace

BOOST_AUTO_TEST_CASE(get_on_a_connection_closed_as_it_is_reused_is_sent_again) {
    net::io_context ioc;
    fault_server server(ioc, closes_on_second_request());
    http::client client(ioc.get_executor());
    BOOST_TEST(!fetch(ioc, client, get(server.url())).ec);
    auto out = fetch(ioc, client, get(server.url()));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "ok");
    BOOST_TEST(server.accepted() == 2u);
    BOOST_TEST(server.requests() == 3u);
}

BOOST_AUTO_TEST_CASE(post_on_a_connection_closed_as_it_is_reused_is_not_sent_again) {
    net::io_context ioc;
    fault_server server(ioc, closes_on_second_request());
    http::client client(ioc.get_executor());
    BOOST_TEST(!fetch(ioc, client, get(server.url())).ec);
    http::request r;
    r.method = "POST";
    r.url = server.url();
    r.body = "publish once";
    auto out = fetch(ioc, client, r);
    BOOST_TEST(out.ec == make_error_code(http::error::no_response), http::describe(out.ec, out.info));
    BOOST_TEST(out.info.reused_connection);
    BOOST_TEST(http::describe(out.ec, out.info).find("replayable") != std::string::npos,
               http::describe(out.ec, out.info));
    BOOST_TEST(server.accepted() == 1u, "no fresh connection was opened to send the POST again");
    BOOST_TEST(server.requests() == 2u);
}

BOOST_AUTO_TEST_CASE(post_marked_replayable_is_sent_again_on_a_fresh_connection) {
    net::io_context ioc;
    fault_server server(ioc, closes_on_second_request());
    http::client client(ioc.get_executor());
    BOOST_TEST(!fetch(ioc, client, get(server.url())).ec);
    http::request r;
    r.method = "POST";
    r.url = server.url();
    r.body = "at least once";
    r.replayable = true;
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "ok");
    BOOST_TEST(server.accepted() == 2u);
    BOOST_TEST(server.requests() == 3u);
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

// --- first handshake shared, handshakes spaced (pool_options::share_first_handshake, handshake_spacing) ---

namespace {

struct burst_result {
    int ok = 0;
    int resumed = 0;
    std::vector<boost::system::error_code> errors;
};

/// Starts `n` transfers of `url` at once on `client` and runs them all to completion (20 s at most).
burst_result burst(net::io_context& ioc, http::client& client, const std::string& url, int n) {
    burst_result r;
    int done = 0;
    for (int i = 0; i < n; ++i)
        client.async_fetch(get(url), {}, [&](boost::system::error_code ec, http::transfer_info info) {
            ++done;
            if (!ec && info.status == 200)
                ++r.ok;
            r.resumed += info.tls_resumed;
            if (ec)
                r.errors.push_back(ec);
        });
    run_until(
        ioc, [&] { return done == n; }, 20s);
    BOOST_REQUIRE_EQUAL(done, n);
    return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(new_connections_to_one_origin_resume_the_first_ones_session) {
    nginx_server nginx;
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    const auto r = burst(ioc, client, url, 8);
    BOOST_TEST(r.ok == 8);
    // One full handshake; the seven connections opened meanwhile waited for its session and resumed it.
    BOOST_TEST(r.resumed == 7);
    const auto lines = parse_log(nginx.wait_for_access_log(8, 5s));
    BOOST_REQUIRE(lines.size() == 8u);
    BOOST_TEST(distinct_connections(lines) == 8u);
    BOOST_TEST(std::count_if(lines.begin(), lines.end(), [](const log_line& l) { return l.reused == "r"; }) ==
               7);
}

BOOST_AUTO_TEST_CASE(without_sharing_a_burst_of_new_connections_does_full_handshakes) {
    nginx_server nginx;
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                        {.pool = {.share_first_handshake = false, .handshake_spacing = 0ms}});
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    const auto r = burst(ioc, client, url, 8);
    BOOST_TEST(r.ok == 8);
    BOOST_TEST(r.resumed == 0); // all eight handshakes began before any session existed
}

BOOST_AUTO_TEST_CASE(a_server_that_gives_no_session_does_not_hold_up_the_waiting_connections) {
    // TLS 1.3 without tickets: the first handshake brings nothing to resume.
    openssl_server server({.extra_args = {"-num_tickets", "0"}});
    net::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                        {.pool = {.keep_alive = false}});
    const auto url = "https://localhost:" + std::to_string(server.port()) + "/";
    for (int round = 0; round < 2; ++round) {
        const auto r = burst(ioc, client, url, 3);
        BOOST_TEST(r.ok == 3, "round " << round);
        BOOST_TEST(r.resumed == 0, "round " << round);
    }
    BOOST_TEST(client.cached_tls_sessions() == 0u);
}

BOOST_AUTO_TEST_CASE(when_the_first_handshake_fails_the_waiting_connections_fail_on_their_own) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    // A CA that did not sign the devserver's certificate: every handshake fails verification.
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    const auto r = burst(ioc, client, server.url("/200"), 4);
    BOOST_TEST(r.ok == 0);
    BOOST_REQUIRE(r.errors.size() == 4u);
    for (const auto& ec : r.errors)
        BOOST_TEST(ec == make_error_code(tls::error::untrusted_issuer), ec.message());
    BOOST_TEST(server.connections_accepted() == 4u); // each tried its own handshake
}

BOOST_AUTO_TEST_CASE(spaced_handshakes_all_complete_and_queued_ones_can_be_cancelled) {
    nginx_server nginx;
    net::io_context ioc;
    // Spacing of an hour: only "the previous one has finished" can start the next handshake, so the six
    // complete within burst()'s bound only if each finished handshake lets the next one start.
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                        {.pool = {.share_first_handshake = false, .handshake_spacing = 1h}});
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    const auto r = burst(ioc, client, url, 6);
    BOOST_TEST(r.ok == 6);

    // A server that never answers the ClientHello: the first handshake hangs, the others wait their turn.
    // Cancelled, all end at once and free their turns.
    fault_server silent(ioc, {{fault::stall()}}, {.tls = true});
    http::client slow(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}),
                      {.pool = {.share_first_handshake = false, .handshake_spacing = 10s}});
    int done = 0, aborted = 0;
    for (int i = 0; i < 5; ++i)
        slow.async_fetch(get(silent.url("/")), {}, [&](boost::system::error_code ec, http::transfer_info) {
            ++done;
            aborted += ec == net::error::operation_aborted;
        });
    run_until(
        ioc, [&] { return silent.accepted() == 5u; }, 5s);
    BOOST_TEST(silent.accepted() == 5u);
    BOOST_TEST(done == 0);
    slow.cancel_all();
    run_until(
        ioc, [&] { return done == 5; }, 5s);
    BOOST_TEST(done == 5);
    BOOST_TEST(aborted == 5);
    const auto after = burst(ioc, slow, url, 2); // nothing left holding a slot
    BOOST_TEST(after.ok == 2);
}

BOOST_AUTO_TEST_CASE(connections_waiting_for_a_session_never_wait_for_a_slow_response) {
    net::io_context ioc;
    // A TLS 1.3 server that issues no session: the first connection (the first to handshake, so the one
    // the others wait on for a session) never gets its response; the others are answered at once.
    fault_server server(ioc, {{fault::read_request(), fault::stall()}, fault::serve_ok()},
                        {.tls = true, .sessions = false});
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    int done = 0, ok = 0, aborted = 0;
    for (int i = 0; i < 3; ++i)
        client.async_fetch(get(server.url("/")), {},
                           [&](boost::system::error_code ec, http::transfer_info info) {
                               ++done;
                               ok += !ec && info.status == 200;
                               aborted += ec == net::error::operation_aborted;
                           });
    // The two answered ones end within a grace of a round trip or two, not after the stalled response.
    run_until(
        ioc, [&] { return ok == 2; }, 5s);
    BOOST_TEST(ok == 2);
    BOOST_TEST(done == 2);
    BOOST_TEST(server.accepted() == 3u);
    client.cancel_all();
    run_until(
        ioc, [&] { return done == 3; }, 5s);
    BOOST_TEST(aborted == 1);
}

BOOST_AUTO_TEST_SUITE_END()
