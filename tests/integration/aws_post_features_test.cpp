// aws_post's AWS IoT features beyond one plain publish (issue 18), run as a user would against the
// embedded demo endpoint, which decodes what it receives as AWS IoT does.
#include <support/process.hpp>

#include <boost/test/unit_test.hpp>

#include <fstream>

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

} // namespace

BOOST_AUTO_TEST_SUITE(aws_post_properties)

BOOST_AUTO_TEST_CASE(demo_delivers_every_mqtt5_property) {
    auto r = run_aws_post({"--demo", "--topic", "req/gw-1", "--content-type", "application/json",
                           "--response-topic", "resp/gw-1", "--message-expiry", "60", "--user-property",
                           "deviceName=alpha", "--user-property", "expr=a=b", "--user-property", "deviceName=beta",
                           "--payload-format", "utf8", "--correlation-data", "req-7"});
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "?qos=1&contentType=application%2Fjson&responseTopic=resp%2Fgw-1&messageExpiry=60"),
               r.output);
    // req-7 in base64 is cmVxLTc=; the user properties in their order, repeats kept, '=' in a value kept.
    BOOST_TEST(contains(r.output, R"(Demo endpoint received: {"topic":"req/gw-1","qos":1,"retain":false,)"
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
    BOOST_TEST(contains(r.output, R"(Demo endpoint received: {"topic":"status/gw-1","qos":1,"retain":true,"payloadBytes":0})"),
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
