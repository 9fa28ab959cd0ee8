// The aws_post program, run as a user would: coreHTTP-demo output, retries, exit statuses, against the
// embedded demo endpoint, nginx with mutual TLS, openssl s_server and a port nobody listens on.
#include <edgeloop/devserver/server.hpp>

#include <support/fault_server.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <set>
#include <sstream>
#include <thread>

using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

enum : int {
    exit_ok = 0,
    exit_http = 1,
    exit_usage = 2,
    exit_config = 3,
    exit_interrupted = 4,
    exit_connection = 5,
    exit_tls = 6
};

struct run_result {
    int status = -1;
    std::string output;
};

std::string log_path(const char* what) {
    static const std::string dir = make_temp_dir("aws_post_app");
    static int n = 0;
    return dir + "/" + what + std::to_string(++n) + ".log";
}

/// Runs aws_post with the arguments, stdout+stderr captured, bounded to `limit`.
run_result run_aws_post(std::vector<std::string> args, std::chrono::milliseconds limit = 30s) {
    const std::string log = log_path("run");
    args.insert(args.begin(), AWS_POST_BIN);
    child_process p(args, log);
    auto status = p.wait_for_exit(limit);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "aws_post did not exit in time; output:\n" << read_file(log));
    return {*status, read_file(log)};
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size()))
        ++n;
    return n;
}

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

std::vector<std::string> mtls_args(const nginx_server& nginx) {
    return {"--endpoint", "localhost",
            "--port",     std::to_string(nginx.mtls_port()),
            "--cacert",   pki::path("ca.crt"),
            "--cert",     pki::path("client.crt"),
            "--key",      pki::path("client.key")};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_post_app)

BOOST_AUTO_TEST_CASE(address_family_options_apply_to_the_endpoint) {
    auto v4 = run_aws_post({"--demo", "-v", "-4"});
    BOOST_TEST(v4.status == 0, v4.output);
    BOOST_TEST(v4.output.find("Address: 127.0.0.1:") != std::string::npos, v4.output);
    // The demo endpoint is 127.0.0.1: with -6 it has no address to connect to.
    auto v6 = run_aws_post({"--demo", "-6", "--attempts", "1"});
    BOOST_TEST(v6.status == 5, v6.output); // exit_connection
    BOOST_TEST(v6.output.find("no IPv6 address for 127.0.0.1") != std::string::npos, v6.output);
    BOOST_TEST(run_aws_post({"--demo", "-4", "-6"}).status == 2);
}

BOOST_AUTO_TEST_CASE(help_documents_the_exit_statuses) {
    auto r = run_aws_post({"--help"});
    BOOST_TEST(r.status == exit_ok);
    BOOST_TEST(contains(r.output, "Exit status:"), r.output);
    BOOST_TEST(contains(r.output, "--backoff-base-ms"), r.output);
}

BOOST_AUTO_TEST_CASE(demo_publishes_and_prints_the_json_answer) {
    auto r = run_aws_post({"--demo"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "Establishing a TLS session to 127.0.0.1:"), r.output);
    BOOST_TEST(contains(r.output, "/topics/topic?qos=1..."), r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n200"), r.output);
    BOOST_TEST(contains(r.output, R"("message":"OK")"), r.output);
    BOOST_TEST(contains(r.output, R"("traceId":")"), r.output);
    BOOST_TEST(contains(r.output, "Demo completed successfully."), r.output);
}

BOOST_AUTO_TEST_CASE(demo_on_port_8443_offers_no_alpn) {
    auto r = run_aws_post({"--demo", "-v"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "ALPN none"), r.output);
    BOOST_TEST(contains(r.output, "Response Headers:"), r.output);
}

BOOST_AUTO_TEST_CASE(demo_on_port_443_negotiates_alpn) {
    auto r = run_aws_post({"--demo", "--port", "443", "-v"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "ALPN negotiated: x-amzn-http-ca"), r.output);
    BOOST_TEST(contains(r.output, "Demo completed successfully."), r.output);
}

BOOST_AUTO_TEST_CASE(nginx_mtls_with_client_certificate_succeeds) {
    nginx_server nginx;
    auto r = run_aws_post(mtls_args(nginx) + std::vector<std::string>{"--topic", "gw/1 temp", "--qos", "0"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n200"), r.output);
    const auto log = nginx.wait_for_access_log(1, 5s);
    BOOST_TEST(contains(log, "POST /topics/gw%2F1%20temp?qos=0 "), log);
}

BOOST_AUTO_TEST_CASE(nginx_mtls_without_client_certificate_is_an_http_error) {
    nginx_server nginx; // answers 400 "No required SSL certificate was sent", not a TLS alert
    auto r = run_aws_post({"--endpoint", "localhost", "--port", std::to_string(nginx.mtls_port()), "--cacert",
                           pki::path("ca.crt"), "--backoff-base-ms", "10", "--backoff-max-ms", "50"});
    BOOST_TEST(r.status == exit_http, r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n400"), r.output);
    BOOST_TEST(count(r.output, "retrying in") == 0u, "a 400 is not retried:\n" << r.output);
    BOOST_TEST(contains(r.output, "Demo failed"), r.output);
}

BOOST_AUTO_TEST_CASE(nothing_listening_makes_exactly_n_attempts_then_gives_up) {
    const auto port = free_port();
    auto r = run_aws_post({"--endpoint", "127.0.0.1", "--port", std::to_string(port), "--cacert",
                           pki::path("ca.crt"), "--cert", pki::path("client.crt"), "--key",
                           pki::path("client.key"), "--attempts", "4", "--backoff-base-ms", "10",
                           "--backoff-max-ms", "50"});
    BOOST_TEST(r.status == exit_connection, r.output);
    BOOST_TEST(count(r.output, "Establishing a TLS session") == 4u, r.output);
    BOOST_TEST(count(r.output, "\nattempt ") == 4u, r.output);
    BOOST_TEST(count(r.output, "; retrying in ") == 3u, r.output);
    for (int n = 1; n <= 3; ++n)
        BOOST_TEST(contains(r.output, "attempt " + std::to_string(n) +
                                          " failed: 127.0.0.1:" + std::to_string(port) + ": "),
                   r.output);
    BOOST_TEST(contains(r.output, "attempt 4 failed: "), r.output);
    BOOST_TEST(contains(r.output, "all 4 attempts exhausted"), r.output);
    BOOST_TEST(!contains(r.output, "Received HTTP response"), r.output);
}

BOOST_AUTO_TEST_CASE(untrusted_server_is_a_tls_failure_without_retries) {
    nginx_server nginx;
    auto args = mtls_args(nginx);
    args[5] = pki::path("untrusted-ca.crt");
    auto r =
        run_aws_post(args + std::vector<std::string>{"--backoff-base-ms", "10", "--backoff-max-ms", "50"});
    BOOST_TEST(r.status == exit_tls, r.output);
    BOOST_TEST(contains(r.output, "server certificate issuer is not trusted"), r.output);
    BOOST_TEST(contains(r.output, "not retried"), r.output);
    BOOST_TEST(count(r.output, "retrying in") == 0u, r.output);
    BOOST_TEST(!contains(r.output, "Received HTTP response"), r.output);
    BOOST_TEST(nginx.access_log().empty(), "no request may reach the server:\n" << nginx.access_log());
}

BOOST_AUTO_TEST_CASE(wrong_passphrase_is_a_configuration_error_naming_the_key) {
    auto r = run_aws_post({"--demo", "--cert", pki::path("client.crt"), "--key", pki::path("client-enc.key"),
                           "--pass", "wrong"});
    BOOST_TEST(r.status == exit_config, r.output);
    BOOST_TEST(contains(r.output, pki::path("client-enc.key")), r.output);
    BOOST_TEST(!contains(r.output, "Establishing a TLS session"), r.output);
}

BOOST_AUTO_TEST_CASE(missing_message_file_is_a_configuration_error_naming_it) {
    auto r = run_aws_post({"--demo", "--message-file", "/nonexistent/msg.json"});
    BOOST_TEST(r.status == exit_config, r.output);
    BOOST_TEST(contains(r.output, "/nonexistent/msg.json"), r.output);
}

BOOST_AUTO_TEST_CASE(count_publishes_over_fewer_connections_than_requests) {
    nginx_server nginx;
    auto r = run_aws_post(mtls_args(nginx) + std::vector<std::string>{"--count", "50"}, 60s);
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(count(r.output, "Response Status:\n200") == 50u, r.output);
    BOOST_TEST(contains(r.output, "(message 50 of 50)"), r.output);
    const auto log = nginx.wait_for_access_log(50, 10s);
    std::istringstream lines(log);
    std::string status, reused, connection, method;
    std::set<std::string> connections;
    std::size_t posts = 0;
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        fields >> status >> reused >> connection >> method;
        BOOST_TEST(status == "200", line);
        posts += method == "POST";
        connections.insert(connection);
    }
    BOOST_TEST(posts == 50u, log);
    BOOST_TEST(connections.size() < 50u, log);
    BOOST_TEST(connections.size() <= 2u, "one keep-alive connection expected:\n" << log);
}

BOOST_AUTO_TEST_CASE(openssl_server_demanding_a_client_certificate_fails_the_handshake_without_one) {
    openssl_server server({.alpn = {"x-amzn-http-ca"}, .require_client_cert = true});
    auto r = run_aws_post({"--endpoint", "localhost", "--port", std::to_string(server.port()), "--cacert",
                           pki::path("ca.crt"), "--backoff-base-ms", "10", "--backoff-max-ms", "50"});
    BOOST_TEST(r.status == exit_tls, r.output);
    BOOST_TEST(count(r.output, "retrying in") == 0u, r.output);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
    auto qos = run_aws_post({"--demo", "--qos", "2"});
    BOOST_TEST(qos.status == exit_usage, qos.output);
    BOOST_TEST(contains(qos.output, "--qos"), qos.output);
    auto port = run_aws_post({"--demo", "--port", "abc"});
    BOOST_TEST(port.status == exit_usage, port.output);
    auto no_endpoint = run_aws_post({"--cert", pki::path("client.crt"), "--key", pki::path("client.key")});
    BOOST_TEST(no_endpoint.status == exit_usage, no_endpoint.output);
    BOOST_TEST(contains(no_endpoint.output, "--endpoint"), no_endpoint.output);
    auto wildcard = run_aws_post({"--demo", "--topic", "a/+/b"});
    BOOST_TEST(wildcard.status == exit_usage, wildcard.output);
    auto unknown = run_aws_post({"--no-such-option"});
    BOOST_TEST(unknown.status == exit_usage, unknown.output);
}

BOOST_AUTO_TEST_CASE(sigterm_during_backoff_exits_with_interrupted_status) {
    const std::string log = log_path("sigterm");
    child_process p({AWS_POST_BIN, "--endpoint", "127.0.0.1", "--port", std::to_string(free_port()),
                     "--cacert", pki::path("ca.crt"), "--backoff-base-ms", "60000", "--backoff-max-ms",
                     "60000"},
                    log);
    // SIGTERM during the backoff wait, or the test would not test what it says.
    BOOST_REQUIRE_MESSAGE(wait_for_text(log, "retrying in", 10s), "no retry announced:\n" << read_file(log));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == exit_interrupted, read_file(log));
}

BOOST_AUTO_TEST_CASE(throttled_publish_waits_for_retry_after_then_succeeds) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server dev(ioc.get_executor(),
                                    {.require_client_certificate = true, .throttle_publishes = 2});
    const std::string dir = make_temp_dir("aws_post_throttle");
    const auto [cert, key] = dev.issue_client_certificate(dir);
    std::thread loop([&] { ioc.run(); });
    auto r = run_aws_post({"--endpoint", "127.0.0.1", "--port", std::to_string(dev.port()), "--cacert",
                           dev.ca_file(), "--cert", cert, "--key", key, "--backoff-base-ms", "10",
                           "--backoff-max-ms", "1000"});
    boost::asio::post(ioc, [&] { dev.stop(); });
    loop.join();
    BOOST_TEST(r.status == 0, r.output);
    // The two jitter windows are 10 and 20 ms: only Retry-After: 1 can make the delay a whole second,
    // which the cap (--backoff-max-ms) allows.
    BOOST_TEST(count(r.output, "retrying in 1000 ms\n") == 2u, r.output);
    BOOST_TEST(!contains(r.output, "capped"), r.output);
    BOOST_TEST(contains(r.output, "Demo completed successfully."), r.output);
}

BOOST_AUTO_TEST_CASE(retry_after_longer_than_the_backoff_maximum_is_capped_and_says_so) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server dev(ioc.get_executor(),
                                    {.require_client_certificate = true, .throttle_publishes = 2});
    const std::string dir = make_temp_dir("aws_post_throttle_capped");
    const auto [cert, key] = dev.issue_client_certificate(dir);
    std::thread loop([&] { ioc.run(); });
    auto r = run_aws_post({"--endpoint", "127.0.0.1", "--port", std::to_string(dev.port()), "--cacert",
                           dev.ca_file(), "--cert", cert, "--key", key, "--backoff-base-ms", "10",
                           "--backoff-max-ms", "50"});
    boost::asio::post(ioc, [&] { dev.stop(); });
    loop.join();
    BOOST_TEST(r.status == 0, r.output);
    // Retry-After: 1 asks for a second; the longest wait allowed is --backoff-max-ms.
    BOOST_TEST(count(r.output, "retrying in 50 ms (the server's Retry-After of 1000 ms capped at "
                               "--backoff-max-ms)\n") == 2u,
               r.output);
    BOOST_TEST(contains(r.output, "Demo completed successfully."), r.output);
}

BOOST_AUTO_TEST_CASE(count_50_survives_a_server_closing_every_10_requests) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server dev(ioc.get_executor(),
                                    {.require_client_certificate = true, .close_after_requests = 10});
    const std::string dir = make_temp_dir("aws_post_close10");
    const auto [cert, key] = dev.issue_client_certificate(dir);
    std::thread loop([&] { ioc.run(); });
    auto r = run_aws_post({"--endpoint", "127.0.0.1", "--port", std::to_string(dev.port()), "--cacert",
                           dev.ca_file(), "--cert", cert, "--key", key, "--count", "50", "--backoff-base-ms",
                           "10", "--backoff-max-ms", "50"});
    const auto accepted = dev.connections_accepted();
    const auto served = dev.requests_served();
    boost::asio::post(ioc, [&] { dev.stop(); });
    loop.join();
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(count(r.output, "Demo completed successfully.") == 1u, r.output);
    BOOST_TEST(served == 50u);
    BOOST_TEST(accepted == 5u);
}

BOOST_AUTO_TEST_CASE(expired_server_certificate_fails_before_any_post) {
    openssl_server server({.cert = "expired"});
    auto r = run_aws_post({"--endpoint", "localhost", "--port", std::to_string(server.port()), "--cacert",
                           pki::path("ca.crt"), "--cert", pki::path("client.crt"), "--key",
                           pki::path("client.key")});
    BOOST_TEST(r.status == exit_tls, r.output);
    BOOST_TEST(contains(r.output, "expired"), r.output);
    BOOST_TEST(count(r.output, "retrying in") == 0u, r.output);
    BOOST_TEST(!contains(r.output, "Received HTTP response"), r.output);
}

BOOST_AUTO_TEST_CASE(server_coming_up_during_the_backoff_is_reached_on_a_later_attempt) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server dev(ioc.get_executor(),
                                    {.require_client_certificate = true, .listen = false});
    const std::string dir = make_temp_dir("aws_post_late_server");
    const auto [cert, key] = dev.issue_client_certificate(dir);
    auto work = boost::asio::make_work_guard(ioc); // nothing is pending until listen()
    std::thread loop([&] { ioc.run(); });
    const std::string log = dir + "/out.log";
    child_process p({AWS_POST_BIN, "--endpoint", "127.0.0.1", "--port", std::to_string(dev.port()),
                     "--cacert", dev.ca_file(), "--cert", cert, "--key", key, "--attempts", "30",
                     "--backoff-base-ms", "100", "--backoff-max-ms", "200"},
                    log);
    // Bring the server up once the client is backing off (a refused connection has been reported).
    const bool backing_off = wait_for_text(log, "retrying in", 10s);
    dev.listen();
    auto status = p.wait_for_exit(30s);
    boost::asio::post(ioc, [&] { dev.stop(); });
    work.reset();
    loop.join();
    BOOST_REQUIRE_MESSAGE(backing_off, "no retry announced before the server came up:\n" << read_file(log));
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(log);
    BOOST_TEST(*status == 0, out);
    BOOST_TEST(count(out, "retrying in") >= 1u, out);
    BOOST_TEST(contains(out, "Demo completed successfully."), out);
}

BOOST_AUTO_TEST_CASE(sigterm_mid_transfer_exits_with_interrupted_status) {
    // The server reads the POST and never answers: the transfer is running when SIGTERM comes.
    boost::asio::io_context ioc;
    fault_server server(ioc, {{fault::read_request(), fault::stall()}}, {.tls = true});
    const std::string log = log_path("sigterm_mid_transfer");
    child_process p({AWS_POST_BIN, "--endpoint", "127.0.0.1", "--port", std::to_string(server.port()),
                     "--cacert", pki::path("ca.crt"), "--cert", pki::path("client.crt"), "--key",
                     pki::path("client.key")},
                    log);
    // The server's loop runs here until it has read the request: then the transfer is running.
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (server.requests() == 0 && std::chrono::steady_clock::now() < until)
        ioc.run_one_until(until);
    BOOST_REQUIRE_MESSAGE(server.requests() == 1u, "the request never reached the server:\n"
                                                       << read_file(log));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(10s);
    server.close(); // its loop is not running
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(log);
    BOOST_TEST(*status == exit_interrupted, out);
    BOOST_TEST(contains(out, "Publishing interrupted."), out);
    BOOST_TEST(!contains(out, "retrying in"), out);
}

BOOST_AUTO_TEST_CASE(unresolvable_endpoint_is_a_connection_failure_with_a_clean_message) {
    auto r = run_aws_post({"--endpoint", "nothing.invalid", "--cacert", pki::path("ca.crt"), "--cert",
                           pki::path("client.crt"), "--key", pki::path("client.key"), "--attempts", "2",
                           "--backoff-base-ms", "10", "--backoff-max-ms", "20", "--connect-timeout", "3"});
    BOOST_TEST(r.status == exit_connection, r.output);
    // Without a reachable DNS server the resolver may not answer at all: then its deadline names it.
    BOOST_TEST(count(r.output, "nothing.invalid:8443: could not resolve host name") +
                       count(r.output, "nothing.invalid:8443: timed out resolving the host name") ==
                   2u,
               r.output);
    BOOST_TEST(contains(r.output, "all 2 attempts exhausted"), r.output);
    BOOST_TEST(!contains(r.output, "Received HTTP response"), r.output);
}

BOOST_AUTO_TEST_SUITE_END()
