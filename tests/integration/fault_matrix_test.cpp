// The fault matrix: every way a server or the network can misbehave ends in one named error, one
// completion, a pool that still works and no leaked descriptor. The scripted peer is
// tests/support/fault_server.hpp (plain TCP, or TLS with the test PKI) on 127.0.0.1.
//
// Each case checks (1) the exact error, status and body bytes delivered (transfer_info), (2) completion
// exactly once (some through http::multi's on_done), (3) that the next transfer on the same client works
// and that a connection that saw the fault was not reused (server-side connection counts), (4) that the
// process has as many descriptors open afterwards as before.
//
// clang-format off
// | fault                                                    | error (edgeloop.http / edgeloop.tls)    | where
// |----------------------------------------------------------|-----------------------------------------|------
// | reset (RST) before the response head                     | http connection_reset, status 0         | here
// | reset in the middle of the head                          | http connection_reset, status 0         | here
// | reset after the head, before the body                    | http connection_reset, status 200       | here
// | reset mid-body (plain, and over TLS)                     | http connection_reset, N body bytes     | here
// | close (FIN) before any response                          | http no_response                        | here
// | Content-Length longer than the body, then close          | http partial_response, N body bytes     | here
// | close in the middle of a chunk                           | http partial_response, N body bytes     | here
// | TLS close without close_notify mid-body                  | http partial_response, N body bytes     | here
// | TLS close without close_notify after a complete body     | none: success, connection not reused    | here
// | stall at accept (full listen backlog)                    | http connect_timeout                    | here
// | stall in the TLS handshake                               | http handshake_timeout                  | here
// | reset in the TLS handshake                               | http connection_reset                   | here
// | stall before the head                                    | http response_head_timeout              | here
// | stall mid-body                                           | http idle_timeout, N body bytes         | here
// | malformed status line                                    | http malformed_response                 | here
// | invalid character in a header name                       | http malformed_response                 | here
// | oversized head (over limits::max_header_bytes)           | http header_too_large                   | here
// | negative Content-Length                                  | http malformed_response                 | here
// | non-numeric Content-Length                               | http malformed_response                 | here
// | two different Content-Lengths                            | http malformed_response                 | here
// | invalid chunk size (not hex)                             | http malformed_response                 | here
// | chunk size overflowing 64 bits                           | http malformed_response                 | here
// | bytes past the end of the body (extraneous data)         | none: success, connection not reused    | here
// | the same over TLS, a record already inside OpenSSL       | none: success, connection not reused    | here
// | TLS close_notify right after a keep-alive response       | none: success, connection not pooled    | here
// | 3xx without Location                                     | none: the final response, body delivered| here
// | HTTP/0.9-style reply (no status line), then close        | http malformed_response                 | here
// | Transfer-Encoding and Content-Length, either order       | http malformed_response                 | here (*)
// | a transfer coding other than plain chunked               | http unsupported_transfer_coding        | here (*)
// | bare LF line ends in the head and trailers               | none: accepted (RFC 9112 2.2), reusable | here (*)
// | the same with limits::strict_line_endings                | http malformed_response                 | here (*)
// | bare LF ending a chunk-size line                         | http malformed_response, status 200     | here (*)
// | bare CR, NUL or obs-fold in the head                     | http malformed_response                 | here (*)
// | 100 Continue and 103 Early Hints before the final status | none: skipped, final 200 delivered      | here
// | unsolicited 101 Switching Protocols                      | http malformed_response                 | here
// | status below 100 (HTTP/1.1 020)                          | http malformed_response                 | fuzz corpus response/status-below-100
// | redirect loop (Location: itself)                         | http too_many_redirects                 | here
// | server refuses every offered ALPN protocol               | tls alpn_not_negotiated                 | here
// | server ignores ALPN (selects none)                       | none: success, transfer_info.alpn empty | here
// | server demands a client certificate the client lacks     | tls client_certificate_rejected         | here, mtls_test
// | expired server certificate                               | tls certificate_expired                 | here, tls_errors_test
// | not yet valid server certificate                         | tls certificate_not_yet_valid           | here, tls_errors_test
// | certificate for another host name                        | tls host_name_mismatch                  | here, tls_errors_test
// | untrusted issuer                                         | tls untrusted_issuer                    | here, tls_errors_test
// | self-signed server certificate                           | tls self_signed_certificate             | here, tls_errors_test
// | IP-address URL, certificate for another name             | tls host_name_mismatch                  | tls_errors_test
// | server offering only TLS 1.1                             | tls protocol_version_rejected           | tls_errors_test
// | nothing listening                                        | http connection_refused                 | deadlines_test
// | a name's first address blackholed (SYNs unanswered)      | none: the next address wins the race    | happy_eyeballs
// | every address of a name blackholed                       | http connect_timeout, each address named| happy_eyeballs
// | every address of a name refuses                          | http connection_refused, each named     | happy_eyeballs
// | no address of the family asked for (-4 / -6)             | http resolve_failed                     | happy_eyeballs
// | DNS server never answers a name (others still resolve)   | http resolve_timeout                    | dns
// | DNS answers NXDOMAIN                                     | http resolve_failed                     | dns
// | --interface device missing, or no CAP_NET_RAW            | http connect_failed, names the cause    | socket_options
// | proxy down (nothing listening at the proxy), http/socks5h | http proxy_connect_failed, names it     | here, proxy_test, socks_proxy_test
// | proxy answers 407 to CONNECT                             | http proxy_auth_required, names it      | here, proxy_test (squid)
// | proxy refuses CONNECT (403)                              | http proxy_tunnel_refused, status named | here, proxy_test (squid)
// | proxy stalls the CONNECT answer (http, and SOCKS5)       | http proxy_tunnel_timeout               | here, proxy_test, socks_proxy_test
// | proxy closes before answering CONNECT                    | http bad_proxy_response                 | here, proxy_test
// | proxy closes the CONNECT tunnel (200, then close)        | tls handshake_failed, proxy in detail   | here
// | proxy answers garbage to CONNECT                         | http bad_proxy_response                 | proxy_test
// | https proxy: certificate untrusted                       | http proxy_tls_failed, cause tls untrusted_issuer | here, proxy_test (stunnel)
// | https proxy: handshake refused (RST)                     | http proxy_tls_failed, names the proxy  | here
// | https proxy stalls its TLS handshake                     | http proxy_handshake_timeout            | here
// | https proxy answers 407 to CONNECT inside its TLS        | http proxy_auth_required                | here, proxy_test (stunnel + squid)
// | SOCKS5 proxy closes mid-handshake                        | http bad_socks_response                 | here
// | SOCKS5 proxy closes the open tunnel before the response  | http no_response (transfer_info::proxy) | here
// | SOCKS5 refusal: reply 5 (target port closed), reply 2    | http socks_refused, socks_not_allowed   | here, socks_proxy_test (microsocks)
// | SOCKS5 wrong password / no credentials                   | socks_auth_failed / _no_acceptable_method | socks_proxy_test (microsocks)
// | DNS failure (.invalid name)                              | http resolve_failed                     | deadlines_test, multi_fetch_app, aws_post_app
// | kept-alive connection closed by the server while idle    | none: fresh connection, success         | pool_test
// | kept-alive connection closed as it is reused             | none: retried once on a fresh one       | pool_test
// |   ... for a POST not marked request::replayable          | http no_response (not sent again)       | pool_test
// | server down, then up during aws_post's backoff           | later attempt succeeds, exit 0          | aws_post_app_test
// | SIGTERM mid-transfer (multi_fetch, aws_post)             | exit 4; no partial file; LED1 off       | multi_fetch_app, aws_post_app
// (*) framing_and_line_ends: each reply sent in one write and again one byte per write.
// clang-format on
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/multi.hpp>

#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
namespace data = boost::unit_test::data;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// Deadlines far beyond what a healthy exchange needs on a loaded machine; stall cases shorten one.
http::client_options patient_options() {
    http::client_options o;
    o.timeouts = {
        .resolve = 5s, .connect = 5s, .handshake = 5s, .write = 5s, .response_head = 5s, .idle = 5s};
    o.limits.max_header_bytes = 4096;
    o.redirects.max_redirects = 3;
    return o;
}

http::client_options with_timeouts(http::timeouts t) {
    auto o = patient_options();
    o.timeouts = t;
    return o;
}

std::string head_200(std::size_t content_length) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

std::string bytes(std::size_t n) {
    return std::string(n, 'x');
}

/// A raw response (whole head, body "ok"), with the connection left open for more requests.
fault_step answer_raw(std::string response) {
    return fault::answer(std::move(response));
}

struct fault_spec {
    /// What the first connection to the fault server does; later connections are served ok.
    fault_step step;
    fault_server_options server{};
    tls::options tls{};
    http::client_options client = patient_options();
    boost::system::error_code ec{};
    unsigned status = 0;
    std::uint64_t body_bytes = 0;
    /// Run the faulty transfer through http::multi (on_done) rather than async_fetch.
    bool multi = false;
    /// The fault lies in the server's configuration (certificate, ALPN, accept): the next transfer goes
    /// to a healthy server of the same kind, and every connection to the fault server plays `step`.
    bool healthy_elsewhere = false;
    /// The faulty exchange left a connection fit for reuse (a success, or a fault over a good one).
    bool reusable = false;
    /// Connections the fault server accepts during the faulty transfer.
    std::size_t fault_connections = 1;
    /// When set: the client's idle connections right after the faulty transfer (before the next one).
    std::optional<std::size_t> idle_after{};
};

/// Makes the loop's lazily created parts (reactor descriptors, resolver thread) exist before counting.
void warm_up(net::io_context& ioc) {
    {
        fault_server server(ioc, {fault::serve_ok()});
        http::client client(ioc.get_executor());
        auto out = fetch(ioc, client, get(server.url()));
        BOOST_REQUIRE_MESSAGE(!out.ec, http::describe(out.ec, out.info));
    }
    // Until the handlers of the closed sockets have run, their descriptors are still counted.
    ioc.restart();
    ioc.run();
}

/// Runs the faulty transfer and the one after it with every check of the matrix; returns the first.
fetch_outcome check(fault_spec spec) {
    fetch_outcome out;
    net::io_context ioc;
    warm_up(ioc);
    const int fds_before = count_open_fds();
    {
        if (spec.tls.ca_file.empty())
            spec.tls.ca_file = pki::path("ca.crt");
        std::vector<fault_step> script{spec.step};
        if (!spec.healthy_elsewhere)
            script.push_back(fault::serve_ok());
        fault_server server(ioc, script, spec.server);
        fault_server healthy(ioc, {fault::serve_ok()}, {.tls = spec.server.tls});
        http::client client(ioc.get_executor(), tls::context(spec.tls), spec.client);

        out = spec.multi ? fetch_with_multi(ioc, client, get(server.url()))
                         : fetch(ioc, client, get(server.url()));
        BOOST_TEST(out.ec == spec.ec, http::describe(out.ec, out.info));
        BOOST_TEST(out.done_calls == 1);
        BOOST_TEST(out.info.status == spec.status);
        BOOST_TEST(out.info.body_bytes == spec.body_bytes);
        BOOST_TEST(out.body.size() == out.info.body_bytes);
        if (!spec.ec)
            BOOST_TEST(out.body == "ok");
        BOOST_TEST(server.accepted() == spec.fault_connections);
        BOOST_TEST(client.active() == 0u);
        if (spec.idle_after)
            BOOST_TEST(client.idle_connections() == *spec.idle_after);

        // The pool is consistent: the next transfer works, and never on a connection that saw a fault.
        auto& next_server = spec.healthy_elsewhere ? healthy : server;
        const auto accepted_before = next_server.accepted();
        auto next = fetch(ioc, client, get(next_server.url()));
        BOOST_TEST(!next.ec, http::describe(next.ec, next.info));
        BOOST_TEST(next.done_calls == 1);
        BOOST_TEST(next.body == "ok");
        BOOST_TEST(next.info.reused_connection == spec.reusable);
        BOOST_TEST(next_server.accepted() == accepted_before + (spec.reusable ? 0u : 1u));
    }
    // Client and servers are gone: their sockets close as the loop runs their last handlers.
    run_until(
        ioc, [&] { return count_open_fds() == fds_before; }, 2s);
    BOOST_TEST(count_open_fds() == fds_before, "a descriptor was leaked");
    return out;
}

/// A proxy's fault: the client goes through `proxy_scheme`://127.0.0.1:<the fault server> (or a port where
/// nothing listens, when `proxy_down`) to `target`; the first connection to the proxy plays `step`. The
/// same checks as check(), the next transfer going direct (its host matches no_proxy) to a healthy server.
struct proxy_fault_spec {
    std::string proxy_scheme = "http";
    fault_step step;
    fault_server_options server = {}; ///< the proxy's listener (tls: an https:// proxy)
    bool proxy_down = false;
    std::string target = "https://127.0.0.1:9/";
    http::client_options client = patient_options();
    boost::system::error_code ec{};
    /// Words the detail must contain (the proxy is always named).
    std::string detail;
};

fetch_outcome check_proxy(proxy_fault_spec spec) {
    fetch_outcome out;
    net::io_context ioc;
    warm_up(ioc);
    const int fds_before = count_open_fds();
    {
        fault_server proxy(ioc, {spec.step}, spec.server);
        fault_server healthy(ioc, {fault::serve_ok()});
        const std::uint16_t proxy_port = spec.proxy_down ? free_port() : proxy.port();
        const std::string proxy_url = spec.proxy_scheme + "://127.0.0.1:" + std::to_string(proxy_port);
        spec.client.proxy.url = proxy_url;
        spec.client.proxy.no_proxy = "localhost";
        http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}), spec.client);

        out = fetch(ioc, client, get(spec.target));
        BOOST_TEST(out.ec == spec.ec, http::describe(out.ec, out.info));
        BOOST_TEST(out.done_calls == 1);
        BOOST_TEST(out.info.proxy == proxy_url);
        BOOST_TEST(out.info.detail.find("proxy " + proxy_url) != std::string::npos, out.info.detail);
        BOOST_TEST(out.info.detail.find(spec.detail) != std::string::npos, out.info.detail);
        BOOST_TEST(proxy.accepted() == (spec.proxy_down ? 0u : 1u));
        BOOST_TEST(client.active() == 0u);
        BOOST_TEST(client.idle_connections() == 0u); // a connection that saw a proxy fault is never pooled

        auto next = fetch(ioc, client, get("http://localhost:" + std::to_string(healthy.port()) + "/"));
        BOOST_TEST(!next.ec, http::describe(next.ec, next.info));
        BOOST_TEST(next.done_calls == 1);
        BOOST_TEST(next.body == "ok");
        BOOST_TEST(next.info.proxy.empty());
    }
    run_until(
        ioc, [&] { return count_open_fds() == fds_before; }, 2s);
    BOOST_TEST(count_open_fds() == fds_before, "a descriptor was leaked");
    return out;
}

/// SOCKS5: "no authentication" chosen, then the CONNECT reply `rep` with an IPv4 bound address.
std::string socks_answer(char rep) {
    return std::string("\x05\x00\x05", 3) + rep + std::string("\x00\x01\x7f\x00\x00\x01\x04\x38", 8);
}

const auto connection_reset = make_error_code(http::error::connection_reset);
const auto malformed = make_error_code(http::error::malformed_response);
const auto partial = make_error_code(http::error::partial_response);

} // namespace

BOOST_AUTO_TEST_SUITE(fault_matrix)

// --- resets and closes ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reset_before_the_response_head) {
    check({.step = {fault::read_request(), fault::reset()}, .ec = connection_reset});
}

BOOST_AUTO_TEST_CASE(reset_in_the_middle_of_the_head) {
    check({.step = {fault::read_request(), fault::send("HTTP/1.1 200 OK\r\nContent-Le"), fault::reset()},
           .ec = connection_reset,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(reset_after_the_head) {
    check({.step = {fault::read_request(), fault::send(head_200(1000)), fault::reset()},
           .ec = connection_reset,
           .status = 200});
}

BOOST_AUTO_TEST_CASE(reset_mid_body_reports_the_bytes_that_arrived) {
    check({.step = {fault::read_request(), fault::send(head_200(1000) + bytes(400)), fault::reset()},
           .ec = connection_reset,
           .status = 200,
           .body_bytes = 400,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(reset_mid_body_over_tls) {
    check({.step = {fault::read_request(), fault::send(head_200(1000) + bytes(400)), fault::reset()},
           .server = {.tls = true},
           .ec = connection_reset,
           .status = 200,
           .body_bytes = 400});
}

BOOST_AUTO_TEST_CASE(close_before_any_response) {
    check({.step = {fault::read_request(), fault::close()}, .ec = make_error_code(http::error::no_response)});
}

BOOST_AUTO_TEST_CASE(content_length_longer_than_the_body) {
    check({.step = {fault::read_request(), fault::send(head_200(1000) + bytes(400)), fault::close()},
           .ec = partial,
           .status = 200,
           .body_bytes = 400,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(close_in_the_middle_of_a_chunk) {
    check({.step = {fault::read_request(),
                    fault::send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" + bytes(50)),
                    fault::close()},
           .ec = partial,
           .status = 200,
           .body_bytes = 50});
}

BOOST_AUTO_TEST_CASE(tls_close_without_close_notify_mid_body) {
    check({.step = {fault::read_request(), fault::send(head_200(1000) + bytes(400)), fault::close()},
           .server = {.tls = true},
           .ec = partial,
           .status = 200,
           .body_bytes = 400,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(tls_close_without_close_notify_after_a_complete_keep_alive_body) {
    // The response was whole: no error. The dead connection is noticed in the pool, not reused.
    check({.step = fault::answer(fault::ok_response(), fault::close()),
           .server = {.tls = true},
           .status = 200,
           .body_bytes = 2});
}

BOOST_AUTO_TEST_CASE(tls_close_without_close_notify_after_a_connection_close_body) {
    check({.step = fault::answer("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                                 fault::close()),
           .server = {.tls = true},
           .status = 200,
           .body_bytes = 2});
}

// --- stalls -----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(stall_at_accept) {
    check({.step = fault::serve_ok(),
           .server = {.accept = false},
           .client = with_timeouts({.connect = 300ms}),
           .ec = make_error_code(http::error::connect_timeout),
           .healthy_elsewhere = true,
           .fault_connections = 0});
}

BOOST_AUTO_TEST_CASE(stall_in_the_tls_handshake) {
    check({.step = {fault::stall()},
           .server = {.tls = true},
           .client = with_timeouts({.handshake = 300ms}),
           .ec = make_error_code(http::error::handshake_timeout)});
}

BOOST_AUTO_TEST_CASE(reset_in_the_tls_handshake) {
    check({.step = {fault::reset()}, .server = {.tls = true}, .ec = connection_reset, .multi = true});
}

BOOST_AUTO_TEST_CASE(stall_before_the_head) {
    check({.step = {fault::read_request(), fault::stall()},
           .client = with_timeouts({.response_head = 300ms}),
           .ec = make_error_code(http::error::response_head_timeout)});
}

BOOST_AUTO_TEST_CASE(stall_mid_body) {
    check({.step = {fault::read_request(), fault::send(head_200(1000) + bytes(400)), fault::stall()},
           .client = with_timeouts({.idle = 300ms}),
           .ec = make_error_code(http::error::idle_timeout),
           .status = 200,
           .body_bytes = 400,
           .multi = true});
}

// --- malformed responses: coreHTTP's "security alerts"; the connection is closed, never reused -------

BOOST_AUTO_TEST_CASE(malformed_status_line) {
    check({.step = answer_raw("HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"), .ec = malformed});
}

BOOST_AUTO_TEST_CASE(invalid_character_in_a_header_name) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nX-Bad\x01Name: 1\r\nContent-Length: 2\r\n\r\nok"),
           .ec = malformed,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(oversized_head) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nX-Big: " + bytes(8000) + "\r\nContent-Length: 2\r\n\r\nok"),
           .ec = make_error_code(http::error::header_too_large)});
}

BOOST_AUTO_TEST_CASE(negative_content_length) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok"), .ec = malformed});
}

BOOST_AUTO_TEST_CASE(non_numeric_content_length) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok"), .ec = malformed});
}

BOOST_AUTO_TEST_CASE(two_different_content_lengths) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
           .ec = malformed});
}

BOOST_AUTO_TEST_CASE(invalid_chunk_size) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"),
           .ec = malformed,
           .status = 200,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(chunk_size_overflowing_64_bits) {
    check({.step = answer_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "10000000000000000\r\nok\r\n0\r\n\r\n"),
           .ec = malformed,
           .status = 200});
}

BOOST_AUTO_TEST_CASE(bytes_past_the_end_of_the_body) {
    // The response itself is complete (as curl, not an error), but the connection is out of step with
    // the server: it is closed, never reused.
    check({.step = answer_raw(fault::ok_response() + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"),
           .status = 200,
           .body_bytes = 2});
}

BOOST_AUTO_TEST_CASE(bytes_past_the_end_of_the_body_over_tls) {
    // The extra response is a TLS record of its own, in the same TCP segment as the response: the
    // client's read-ahead takes it into OpenSSL, where the buffer check alone would not see it.
    check({.step = {fault::read_request(), fault::hold(fault::ok_response()),
                    fault::send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"), fault::repeat()},
           .server = {.tls = true},
           .status = 200,
           .body_bytes = 2,
           .idle_after = 0});
}

BOOST_AUTO_TEST_CASE(tls_close_notify_right_after_the_response) {
    // A keep-alive response, then close_notify in the same TCP segment: already inside OpenSSL when the
    // response is complete, so the connection is closed rather than pooled.
    check({.step = {fault::read_request(), fault::hold(fault::ok_response()), fault::close_notify()},
           .server = {.tls = true},
           .status = 200,
           .body_bytes = 2,
           .idle_after = 0});
}

BOOST_AUTO_TEST_CASE(redirect_status_without_location_is_the_final_response) {
    // As curl: delivered with its body, the connection kept.
    check({.step = answer_raw("HTTP/1.1 302 Found\r\nContent-Length: 2\r\n\r\nok"),
           .status = 302,
           .body_bytes = 2,
           .reusable = true,
           .idle_after = 1});
}

// --- framing and line ends (replies as curl's test server sends them); each case is sent in one write and
// again one byte per write: the outcome must not depend on how TCP cuts the bytes ---------------------

struct wire_case {
    std::string response;
    boost::system::error_code ec{};
    unsigned status = 0;
    std::string detail{}; ///< words expected in transfer_info::detail
    bool strict = false;  ///< limits::strict_line_endings
};

const auto unsupported_coding = make_error_code(http::error::unsupported_transfer_coding);
const std::string both_framings = "both Transfer-Encoding and Content-Length";

const std::map<std::string, wire_case> wire_cases{
    // RFC 9112 6.3: both framings is an error, whichever comes first (Beast took the first as 5 bytes).
    {"te_gzip_then_content_length",
     {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello", malformed, 0,
      both_framings}},
    {"content_length_then_te_chunked",
     {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      malformed, 0, both_framings}},
    {"te_chunked_then_content_length",
     {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      malformed, 0, both_framings}},
    // Only plain chunked is decoded; anything else was delivered still encoded.
    {"te_chunked_chunked",
     {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      unsupported_coding, 0, "Transfer-Encoding: chunked, chunked"}},
    {"te_chunked_gzip",
     {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n", unsupported_coding,
      0, "Transfer-Encoding: chunked, gzip"}},
    {"te_gzip_and_te_chunked_fields",
     {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      unsupported_coding, 0, "Transfer-Encoding: gzip, chunked"}},
    // RFC 9112 2.2: a bare LF ends the start line and fields (trailers too), as curl accepts.
    {"bare_lf_head", {"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", {}, 200}},
    {"bare_lf_and_crlf_mixed", {"HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok", {}, 200}},
    {"bare_lf_head_and_trailers",
     {"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\r\nok\r\n0\r\nX-Checksum: 1\n\n", {}, 200}},
    {"bare_lf_head_strict", {"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", malformed, 0, "bare LF", true}},
    // What stays an error, refused as soon as it is seen.
    {"bare_lf_in_a_chunk_size_line",
     {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n", malformed, 200,
      "chunk-size line ended by a bare LF"}},
    {"bare_cr_in_the_head",
     {"HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 2\r\n\r\nok", malformed, 0, "bare CR"}},
    {"nul_in_the_head",
     {std::string("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok", 46), malformed, 0, "NUL"}},
    {"obs_fold_in_the_head",
     {"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok", malformed, 0, "obs-fold"}},
    {"obs_fold_in_a_bare_lf_head",
     {"HTTP/1.1 200 OK\nX-A: a\n\tb\nContent-Length: 2\n\nok", malformed, 0, "obs-fold"}},
    {"two_content_lengths_in_a_bare_lf_head",
     {"HTTP/1.1 200 OK\nContent-Length: 2\nContent-Length: 3\n\nok", malformed, 0}},
};

std::vector<std::string> wire_case_names() {
    std::vector<std::string> names;
    for (const auto& [name, c] : wire_cases)
        names.push_back(name);
    return names;
}

BOOST_DATA_TEST_CASE(framing_and_line_ends, data::make(wire_case_names()) * data::make({false, true}), name,
                     bytewise) {
    const wire_case& c = wire_cases.at(name);
    auto client = patient_options();
    client.limits.strict_line_endings = c.strict;
    auto out = check(
        {.step = {fault::read_request(),
                  bytewise ? fault::send_bytewise(c.response) : fault::send(c.response), fault::repeat()},
         .client = client,
         .ec = c.ec,
         .status = c.status,
         .body_bytes = c.ec ? 0u : 2u,
         .reusable = !c.ec});
    BOOST_TEST(out.info.detail.find(c.detail) != std::string::npos, out.info.detail);
}

BOOST_AUTO_TEST_CASE(http_0_9_style_reply) {
    check({.step = {fault::read_request(), fault::send("<html>hello</html>\n"), fault::close()},
           .ec = malformed,
           .multi = true});
}

BOOST_AUTO_TEST_CASE(interim_responses_before_the_final_status_are_skipped) {
    check({.step = answer_raw("HTTP/1.1 100 Continue\r\n\r\n"
                              "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
                              fault::ok_response()),
           .status = 200,
           .body_bytes = 2,
           .reusable = true});
}

BOOST_AUTO_TEST_CASE(unsolicited_switching_protocols) {
    check({.step = answer_raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                              "Upgrade\r\n\r\n"),
           .ec = malformed});
}

BOOST_AUTO_TEST_CASE(redirect_loop) {
    // Body-less redirects keep the connection: all hops run on one, then the hop limit (3) ends it.
    auto out =
        check({.step = answer_raw("HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"),
               .ec = make_error_code(http::error::too_many_redirects),
               .status = 302,
               .healthy_elsewhere = true});
    BOOST_TEST(out.info.redirects == 3u);
}

// --- TLS: ALPN and certificates ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(server_refusing_every_offered_alpn_protocol) {
    check({.step = fault::serve_ok(),
           .server = {.tls = true, .alpn = {"x-amzn-http-ca"}},
           .tls = {.alpn = {"http/1.1"}},
           .ec = make_error_code(tls::error::alpn_not_negotiated),
           .multi = true,
           .healthy_elsewhere = true});
}

BOOST_AUTO_TEST_CASE(server_ignoring_alpn_is_not_an_error) {
    // As curl: ALPN is an offer. A server that selects nothing speaks HTTP/1.1; info.alpn says so.
    auto out = check({.step = fault::serve_ok(),
                      .server = {.tls = true},
                      .tls = {.alpn = {"x-amzn-http-ca"}},
                      .status = 200,
                      .body_bytes = 2,
                      .reusable = true});
    BOOST_TEST(out.info.alpn.empty());
}

BOOST_AUTO_TEST_CASE(server_demanding_a_client_certificate_the_client_lacks) {
    check({.step = fault::serve_ok(),
           .server = {.tls = true, .require_client_certificate = true},
           .ec = make_error_code(tls::error::client_certificate_rejected),
           .healthy_elsewhere = true});
}

const std::map<std::string, tls::error> bad_certificates{
    {"expired", tls::error::certificate_expired},        {"notyet", tls::error::certificate_not_yet_valid},
    {"wronghost", tls::error::host_name_mismatch},       {"untrusted", tls::error::untrusted_issuer},
    {"selfsigned", tls::error::self_signed_certificate},
};

std::vector<std::string> bad_certificate_names() {
    std::vector<std::string> names;
    for (const auto& [name, e] : bad_certificates)
        names.push_back(name);
    return names;
}

BOOST_DATA_TEST_CASE(bad_certificate, data::make(bad_certificate_names()), cert) {
    check({.step = fault::serve_ok(),
           .server = {.tls = true, .cert = cert},
           .ec = make_error_code(bad_certificates.at(cert)),
           .healthy_elsewhere = true});
}

// --- proxies --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(http_proxy_down) {
    check_proxy({.proxy_down = true, .ec = make_error_code(http::error::proxy_connect_failed)});
}

BOOST_AUTO_TEST_CASE(socks_proxy_down) {
    check_proxy({.proxy_scheme = "socks5h",
                 .proxy_down = true,
                 .ec = make_error_code(http::error::proxy_connect_failed)});
}

BOOST_AUTO_TEST_CASE(proxy_answers_407_to_connect) {
    check_proxy(
        {.step = {fault::read_request(),
                  fault::send("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
                              "realm=\"p\"\r\nContent-Length: 0\r\n\r\n"),
                  fault::stall()},
         .ec = make_error_code(http::error::proxy_auth_required),
         .detail = "answered 407"});
}

BOOST_AUTO_TEST_CASE(proxy_answers_403_to_connect) {
    check_proxy({.step = {fault::read_request(),
                          fault::send("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), fault::stall()},
                 .ec = make_error_code(http::error::proxy_tunnel_refused),
                 .detail = "answered 403 Forbidden to CONNECT 127.0.0.1:9"});
}

BOOST_AUTO_TEST_CASE(proxy_stalls_the_connect_answer) {
    auto o = patient_options();
    o.timeouts.proxy_tunnel = 300ms;
    check_proxy({.step = {fault::read_request(), fault::stall()},
                 .client = o,
                 .ec = make_error_code(http::error::proxy_tunnel_timeout),
                 .detail = "in the proxy tunnel phase"});
}

BOOST_AUTO_TEST_CASE(socks_proxy_stalls_its_answer) {
    auto o = patient_options();
    o.timeouts.proxy_tunnel = 300ms;
    check_proxy({.proxy_scheme = "socks5",
                 .step = {fault::stall()},
                 .client = o,
                 .ec = make_error_code(http::error::proxy_tunnel_timeout),
                 .detail = "in the proxy tunnel phase"});
}

BOOST_AUTO_TEST_CASE(proxy_closes_before_answering_connect) {
    check_proxy({.step = {fault::read_request(), fault::close()},
                 .ec = make_error_code(http::error::bad_proxy_response),
                 .detail = "closed the connection before answering CONNECT"});
}

BOOST_AUTO_TEST_CASE(socks_proxy_closes_mid_handshake) {
    check_proxy({.proxy_scheme = "socks5h",
                 .step = {fault::send(std::string("\x05\x00", 2)), fault::close()},
                 .ec = make_error_code(http::error::bad_socks_response),
                 .detail = "closed the connection during the SOCKS5 handshake"});
}

BOOST_AUTO_TEST_CASE(socks_proxy_closes_the_open_tunnel_before_the_response) {
    // The tunnel is open (reply 0); the request goes through it, and the proxy closes instead of the target
    // answering: the transfer's own error, not a proxy one (the proxy is named by transfer_info::proxy).
    fetch_outcome out;
    net::io_context ioc;
    fault_server proxy(ioc, {{fault::send(socks_answer(0)), fault::read_request(), fault::close()}});
    http::client_options o = patient_options();
    o.proxy.url = "socks5h://127.0.0.1:" + std::to_string(proxy.port());
    http::client client(ioc.get_executor(), o);
    out = fetch(ioc, client, get("http://127.0.0.1:9/"));
    BOOST_TEST(out.ec == make_error_code(http::error::no_response), http::describe(out.ec, out.info));
    BOOST_TEST(out.done_calls == 1);
    BOOST_TEST(out.info.proxy == o.proxy.url);
}

BOOST_AUTO_TEST_CASE(proxy_closes_the_connect_tunnel_in_the_target_handshake) {
    // CONNECT answered 200, then the proxy closes: the target's TLS handshake sees the close, and the
    // transfer_info names the proxy the tunnel went through.
    check_proxy({.step = {fault::read_request(), fault::send("HTTP/1.1 200 Connection established\r\n\r\n"),
                          fault::close()},
                 .ec = make_error_code(tls::error::handshake_failed),
                 .detail = "(through proxy "});
}

BOOST_AUTO_TEST_CASE(https_proxy_certificate_untrusted) {
    // The pki's CA is the target's trust only; the proxy's is the system store here.
    const auto out = check_proxy({.proxy_scheme = "https",
                                  .step = {fault::read_request(), fault::stall()},
                                  .server = {.tls = true},
                                  .ec = make_error_code(http::error::proxy_tls_failed),
                                  .detail = "TLS handshake with the proxy failed"});
    BOOST_TEST(out.info.cause == make_error_code(tls::error::untrusted_issuer), out.info.cause.message());
}

BOOST_AUTO_TEST_CASE(https_proxy_refuses_its_tls_handshake) {
    auto o = patient_options();
    o.proxy.ca_file = pki::path("ca.crt");
    check_proxy({.proxy_scheme = "https",
                 .step = {fault::reset()},
                 .server = {.tls = true},
                 .client = o,
                 .ec = make_error_code(http::error::proxy_tls_failed),
                 .detail = "TLS handshake with the proxy failed"});
}

BOOST_AUTO_TEST_CASE(https_proxy_stalls_its_tls_handshake) {
    auto o = patient_options();
    o.proxy.ca_file = pki::path("ca.crt");
    o.timeouts.proxy_handshake = 300ms;
    check_proxy({.proxy_scheme = "https",
                 .step = {fault::stall()},
                 .server = {.tls = true},
                 .client = o,
                 .ec = make_error_code(http::error::proxy_handshake_timeout),
                 .detail = "in the proxy TLS handshake phase"});
}

BOOST_AUTO_TEST_CASE(https_proxy_answers_407_inside_its_tls) {
    auto o = patient_options();
    o.proxy.ca_file = pki::path("ca.crt");
    check_proxy(
        {.proxy_scheme = "https",
         .step = {fault::read_request(),
                  fault::send("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
                  fault::stall()},
         .server = {.tls = true},
         .client = o,
         .ec = make_error_code(http::error::proxy_auth_required),
         .detail = "answered 407 Proxy Authentication Required to CONNECT 127.0.0.1:9"});
}

BOOST_AUTO_TEST_CASE(socks_refusal_reply) {
    check_proxy({.proxy_scheme = "socks5h",
                 .step = {fault::send(socks_answer(5)), fault::stall()},
                 .ec = make_error_code(http::error::socks_refused),
                 .detail = "answered SOCKS5 reply 5 (connection refused) to CONNECT 127.0.0.1:9"});
}

BOOST_AUTO_TEST_CASE(socks_not_allowed_reply) {
    check_proxy({.proxy_scheme = "socks5",
                 .step = {fault::send(socks_answer(2)), fault::stall()},
                 .ec = make_error_code(http::error::socks_not_allowed),
                 .detail = "answered SOCKS5 reply 2 (connection not allowed by ruleset)"});
}

BOOST_AUTO_TEST_SUITE_END()
