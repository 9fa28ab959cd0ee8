// aws_post's AWS IoT features beyond one plain publish (issue 18), run as a user would against the
// embedded demo endpoint, which decodes what it receives as AWS IoT does.
#include <edgeloop/devserver/server.hpp>

#include <support/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <thread>

using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

enum : int { exit_ok = 0, exit_http = 1, exit_usage = 2, exit_config = 3 };

struct run_result {
    int status = -1;
    std::string output;
};

const std::string& temp_dir() {
    static const std::string dir = make_temp_dir("aws_post_features");
    return dir;
}

run_result run_aws_post(std::vector<std::string> args) {
    static int n = 0;
    const std::string log = temp_dir() + "/run" + std::to_string(++n) + ".log";
    args.insert(args.begin(), AWS_POST_BIN);
    child_process p(args, log);
    auto status = p.wait_for_exit(30s);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "aws_post did not exit in time; output:\n" << read_file(log));
    return {*status, read_file(log)};
}

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
        ++n;
    return n;
}

/// aws_post --auth sigv4 --role-alias against a devserver (on its own thread) that is both the
/// credentials provider and the SigV4-checking data endpoint, as a user would run it (no --demo).
struct provider_run {
    run_result result;
    std::size_t issued = 0;
    std::string thing;
};

provider_run run_against_provider(edgeloop::devserver::options o, std::vector<std::string> extra) {
    boost::asio::io_context ioc;
    o.credentials_role_alias = "gw-role";
    edgeloop::devserver::server dev(ioc.get_executor(), o);
    static int n = 0;
    const auto [cert, key] = dev.issue_client_certificate(temp_dir() + "/device" + std::to_string(++n));
    const std::string port = std::to_string(dev.port());
    std::thread loop([&] { ioc.run(); });
    std::vector<std::string> args{"--endpoint",
                                  "127.0.0.1",
                                  "--port",
                                  port,
                                  "--auth",
                                  "sigv4",
                                  "--region",
                                  "us-east-1",
                                  "--role-alias",
                                  "gw-role",
                                  "--credentials-endpoint",
                                  "127.0.0.1:" + port,
                                  "--cacert",
                                  dev.ca_file(),
                                  "--cert",
                                  cert,
                                  "--key",
                                  key,
                                  "--backoff-base-ms",
                                  "10",
                                  "--backoff-max-ms",
                                  "20"};
    args.insert(args.end(), extra.begin(), extra.end());
    provider_run out;
    out.result = run_aws_post(args);
    boost::asio::post(ioc, [&] { dev.stop(); });
    loop.join();
    out.issued = dev.credentials_issued();
    out.thing = dev.last_thing_name();
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_post_properties)

BOOST_AUTO_TEST_CASE(demo_delivers_every_mqtt5_property) {
    auto r = run_aws_post({"--demo", "--topic", "req/gw-1", "--content-type", "application/json",
                           "--response-topic", "resp/gw-1", "--message-expiry", "60", "--user-property",
                           "deviceName=alpha", "--user-property", "expr=a=b", "--user-property",
                           "deviceName=beta", "--payload-format", "utf8", "--correlation-data", "req-7"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output,
                        "?qos=1&contentType=application%2Fjson&responseTopic=resp%2Fgw-1&messageExpiry=60"),
               r.output);
    // req-7 in base64 is cmVxLTc=; the user properties in their order, repeats kept, '=' in a value kept.
    BOOST_TEST(
        contains(r.output,
                 R"(Demo endpoint received: {"topic":"req/gw-1","qos":1,"retain":false,)"
                 R"("payloadBytes":29,"contentType":"application/json","responseTopic":"resp/gw-1",)"
                 R"("messageExpiry":60,"userProperties":[{"deviceName":"alpha"},{"expr":"a=b"},)"
                 R"({"deviceName":"beta"}],"payloadFormat":"UTF8_DATA","correlationData":"cmVxLTc="})"),
        r.output);
    BOOST_TEST(contains(r.output, "Demo completed successfully."), r.output);
}

BOOST_AUTO_TEST_CASE(demo_retain_with_an_empty_message_clears_the_retained_message) {
    auto r = run_aws_post({"--demo", "--topic", "status/gw-1", "--retain", "--message", ""});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "?qos=1&retain=true..."), r.output);
    BOOST_TEST(
        contains(r.output,
                 R"(Demo endpoint received: {"topic":"status/gw-1","qos":1,"retain":true,"payloadBytes":0})"),
        r.output);
}

BOOST_AUTO_TEST_CASE(invalid_properties_are_usage_errors_before_any_connection) {
    const std::vector<std::vector<std::string>> bad = {
        {"--response-topic", "resp/#"},
        {"--user-property", "no-equals-sign"},
        {"--message-expiry", "4294967296"},
        {"--payload-format", "text"},
        {"--payload-format", "utf8", "--message", "\xC0\xAF"},
    };
    for (auto args : bad) {
        args.insert(args.begin(), "--demo");
        auto r = run_aws_post(args);
        BOOST_TEST(r.status == exit_usage, args[1] << ": " << r.output);
        BOOST_TEST(!contains(r.output, "Establishing a TLS session"), r.output);
    }
}

BOOST_AUTO_TEST_CASE(a_message_over_128_kb_is_refused_before_sending) {
    const std::string file = temp_dir() + "/big.bin";
    std::ofstream(file, std::ios::binary) << std::string(128 * 1024 + 1, 'x');
    auto r = run_aws_post({"--demo", "--message-file", file});
    BOOST_TEST(r.status == exit_usage, r.output);
    BOOST_TEST(contains(r.output, "128 KB"), r.output);
    BOOST_TEST(!contains(r.output, "Establishing a TLS session"), r.output);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << std::string(128 * 1024, 'x');
    r = run_aws_post({"--demo", "--message-file", file});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, R"("payloadBytes":131072)"), r.output);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(aws_post_sigv4)

BOOST_AUTO_TEST_CASE(demo_publishes_signed_without_a_client_certificate) {
    auto r = run_aws_post({"--demo", "--auth", "sigv4", "-v"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "for port 443 (SigV4 signature required)"), r.output);
    BOOST_TEST(contains(r.output, "Signing with SigV4: access key id AKIDEDGELOOPDEMO, region us-east-1, "
                                  "service iotdevicegateway"),
               r.output);
    BOOST_TEST(contains(r.output, "ALPN none"), r.output);
    BOOST_TEST(!contains(r.output, "client certificate"), r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n200"), r.output);
}

BOOST_AUTO_TEST_CASE(keys_come_from_the_environment_and_the_secrets_never_show) {
    const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const std::string token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN";
    static int n = 0;
    const std::string log = temp_dir() + "/env" + std::to_string(++n) + ".log";
    child_process p({AWS_POST_BIN, "--demo", "--auth", "sigv4", "--count", "3", "-v", "-v"}, log,
                    {"AWS_ACCESS_KEY_ID=AKIDFROMTHEENV", "AWS_SECRET_ACCESS_KEY=" + secret,
                     "AWS_SESSION_TOKEN=" + token});
    const auto status = p.wait_for_exit(30s);
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(log);
    BOOST_TEST(*status == exit_ok, out);
    BOOST_TEST(contains(out,
                        "access key id AKIDFROMTHEENV, region us-east-1, service iotdevicegateway, with a "
                        "session token"),
               out);
    BOOST_TEST(!contains(out, secret), out);
    BOOST_TEST(!contains(out, token), out);
}

BOOST_AUTO_TEST_CASE(missing_keys_and_unknown_regions_fail_before_connecting) {
    auto r = run_aws_post({"--endpoint", "a1b2c3-ats.iot.eu-west-1.amazonaws.com", "--auth", "sigv4"});
    BOOST_TEST(r.status == exit_config, r.output);
    BOOST_TEST(contains(r.output, "AWS_ACCESS_KEY_ID"), r.output);
    BOOST_TEST(!contains(r.output, "Establishing"), r.output);
    const std::string log = temp_dir() + "/region.log";
    child_process p({AWS_POST_BIN, "--endpoint", "localhost", "--auth", "sigv4"}, log,
                    {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=secret"});
    const auto status = p.wait_for_exit(30s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == exit_usage, read_file(log));
    BOOST_TEST(contains(read_file(log), "give --region"), read_file(log));
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"--demo", "--auth", "password"},
          std::vector<std::string>{"--demo", "--auth", "sigv4", "--cert", "c.pem", "--key", "k.pem"},
          std::vector<std::string>{"--demo", "--region", "eu-west-1"}}) {
        auto u = run_aws_post(bad);
        BOOST_TEST(u.status == exit_usage, u.output);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(aws_post_shadow)

BOOST_AUTO_TEST_CASE(demo_updates_a_shadow_and_prints_the_document) {
    auto r = run_aws_post({"--demo", "shadow", "update", "--thing", "gw-1", "--name", "config", "--message",
                           R"({"state":{"desired":{"led":"on"}}})"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "Sending HTTP POST request to 127.0.0.1:"), r.output);
    BOOST_TEST(contains(r.output, "/things/gw-1/shadow?name=config..."), r.output);
    BOOST_TEST(contains(r.output, R"("state":{"desired":{"led":"on"}})"), r.output);
    BOOST_TEST(contains(r.output, "Shadow of gw-1, shadow 'config': version 1"), r.output);
}

BOOST_AUTO_TEST_CASE(two_updates_with_the_same_version_exit_with_a_version_conflict) {
    // --count 2 sends the same update twice: the first moves the shadow from version 0 to 1, the
    // second still names version 0.
    auto r = run_aws_post({"--demo", "shadow", "update", "--thing", "gw-1", "--message",
                           R"({"state":{"reported":{"t":1}}})", "--version", "0", "--count", "2"});
    BOOST_TEST(r.status == 7, r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n200"), r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n409"), r.output);
    BOOST_TEST(contains(r.output, "shadow version conflict (409)"), r.output);
    BOOST_TEST(contains(r.output, "Version conflict"), r.output);
    BOOST_TEST(contains(r.output, "not retried"), r.output);
}

BOOST_AUTO_TEST_CASE(get_of_a_missing_shadow_is_an_http_error_and_list_works) {
    auto r = run_aws_post({"--demo", "shadow", "get", "--thing", "gw-9"});
    BOOST_TEST(r.status == exit_http, r.output);
    BOOST_TEST(contains(r.output, "Response Status:\n404"), r.output);
    BOOST_TEST(contains(r.output, "No shadow exists with name: 'gw-9'"), r.output);
    r = run_aws_post({"--demo", "shadow", "list", "--thing", "gw-9"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "Named shadows of gw-9: (none)"), r.output);
    r = run_aws_post({"--demo", "shadow", "delete", "--thing", "gw-9", "--name", "x"});
    BOOST_TEST(r.status == exit_http, r.output);
}

BOOST_AUTO_TEST_CASE(shadow_command_lines_are_checked) {
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"--demo", "shadow", "get"},
          std::vector<std::string>{"--demo", "shadow", "patch", "--thing", "t"},
          std::vector<std::string>{"--demo", "shadow", "update", "--thing", "t"},
          std::vector<std::string>{"--demo", "shadow", "get", "--thing", "t", "--version", "1"},
          std::vector<std::string>{"--demo", "shadow", "get", "--thing", "gw/1"},
          std::vector<std::string>{"--demo", "shadow", "update", "--thing", "t", "--message", "[]"},
          std::vector<std::string>{"--demo", "--thing", "t"},
          std::vector<std::string>{"--demo", "publish"}}) {
        auto r = run_aws_post(bad);
        BOOST_TEST(r.status == exit_usage, r.output);
        BOOST_TEST(!contains(r.output, "Establishing"), r.output);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(aws_post_credentials_provider)

BOOST_AUTO_TEST_CASE(demo_publishes_with_temporary_credentials_fetched_once) {
    auto r = run_aws_post({"--demo", "--auth", "sigv4", "--role-alias", "gw-role", "--thing", "gw-1",
                           "--count", "3", "-v", "-v"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(
        contains(r.output, "credentials provider for role alias gw-role (client certificate required)"),
        r.output);
    BOOST_TEST(
        contains(r.output, "role alias gw-role, thing gw-1, region us-east-1, service iotdevicegateway"),
        r.output);
    // One fetch serves the three publishes: the credentials are good for an hour.
    BOOST_TEST(count(r.output, "Fetched temporary credentials: access key id ASIA") == 1u, r.output);
    BOOST_TEST(count(r.output, "Response Status:\n200") == 3u, r.output);
    // The secrets never show, even with -vv.
    BOOST_TEST(!contains(r.output, "secretAccessKey"), r.output);
    BOOST_TEST(contains(r.output, "X-Amz-Security-Token: <redacted>"), r.output);
}

BOOST_AUTO_TEST_CASE(credentials_near_their_expiry_are_fetched_again_for_each_publish) {
    edgeloop::devserver::options o;
    o.credentials_lifetime = 60s; // inside the 5-minute refresh margin
    const auto r = run_against_provider(o, {"--count", "3", "--thing", "gw-7"});
    BOOST_TEST(r.result.status == exit_ok, r.result.output);
    BOOST_TEST(count(r.result.output, "Fetched temporary credentials") == 3u, r.result.output);
    BOOST_TEST(r.issued == 3u);
    BOOST_TEST(r.thing == "gw-7");
}

BOOST_AUTO_TEST_CASE(a_throttled_provider_is_named_and_retried) {
    edgeloop::devserver::options o;
    o.credentials_failures = 1;
    o.credentials_failure_status = 429;
    const auto r = run_against_provider(o, {});
    BOOST_TEST(r.result.status == exit_ok, r.result.output);
    BOOST_TEST(contains(r.result.output,
                        "Credentials provider: AWS IoT: request throttled (429) (x-amzn-ErrorType "
                        "ThrottlingException): Failure requested by the test"),
               r.result.output);
    BOOST_TEST(count(r.result.output, "retrying in") == 1u, r.result.output);
    BOOST_TEST(r.issued == 1u);
}

BOOST_AUTO_TEST_CASE(a_refusing_provider_fails_the_publish_without_retrying) {
    edgeloop::devserver::options o;
    o.credentials_failures = 100;
    o.credentials_failure_status = 403;
    const auto r = run_against_provider(o, {});
    BOOST_TEST(r.result.status == exit_http, r.result.output);
    BOOST_TEST(contains(r.result.output, "(x-amzn-ErrorType ForbiddenException)"), r.result.output);
    BOOST_TEST(count(r.result.output, "retrying in") == 0u, r.result.output);
    BOOST_TEST(!contains(r.result.output, "Sending HTTP POST"), r.result.output);
}

BOOST_AUTO_TEST_CASE(role_alias_options_are_checked_before_connecting) {
    auto r = run_aws_post({"--demo", "--role-alias", "gw-role"});
    BOOST_TEST(r.status == exit_usage, r.output);
    BOOST_TEST(contains(r.output, "--role-alias and --credentials-endpoint go with --auth sigv4"), r.output);
    r = run_aws_post({"--endpoint", "a1-ats.iot.eu-west-1.amazonaws.com", "--auth", "sigv4", "--role-alias",
                      "r", "--cert", "c.pem", "--key", "k.pem"});
    BOOST_TEST(r.status == exit_usage, r.output);
    BOOST_TEST(contains(r.output, "--role-alias needs --credentials-endpoint"), r.output);
    r = run_aws_post({"--demo", "--auth", "sigv4", "--role-alias", "a/b"});
    BOOST_TEST(r.status == exit_usage, r.output);
    BOOST_TEST(contains(r.output, "invalid role alias"), r.output);
    BOOST_TEST(!contains(r.output, "Establishing"), r.output);
    r = run_aws_post({"--demo", "--auth", "sigv4", "--role-alias", "r", "--credentials-endpoint", "h:99999"});
    BOOST_TEST(r.status == exit_usage, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
