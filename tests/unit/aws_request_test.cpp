#include <edgeloop/aws/publish.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/http/url.hpp>

#include <boost/test/unit_test.hpp>
#include <boost/url/parse.hpp>

#include <string>
#include <utility>
#include <vector>

namespace aws = edgeloop::aws;
namespace http = edgeloop::http;

namespace {

const std::string endpoint = "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com";

aws::publish_request make(std::string topic) {
    aws::publish_request r;
    r.endpoint = endpoint;
    r.topic = std::move(topic);
    r.payload = R"({ "message": "Hello, world" })";
    return r;
}

std::string url_of(const aws::publish_request& r) {
    auto req = aws::make_publish_request(r);
    BOOST_REQUIRE_MESSAGE(req, "refused: " << req.error().message());
    return req->url;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_request)

BOOST_AUTO_TEST_CASE(core_http_demo_request) {
    const auto req = aws::make_publish_request(make("topic"));
    BOOST_REQUIRE(req);
    BOOST_TEST(req->method == "POST");
    BOOST_TEST(req->url == "https://" + endpoint + ":8443/topics/topic?qos=1");
    BOOST_TEST(req->body == R"({ "message": "Hello, world" })");
    BOOST_TEST(req->headers.size() == 2u);
    BOOST_TEST((req->headers ==
                http::header_list{{"Content-Type", "application/json"}, {"Connection", "keep-alive"}}));
}

BOOST_AUTO_TEST_CASE(url_is_one_the_http_client_accepts) {
    auto r = make("sensors/room 1/temp");
    r.port = 443;
    const auto parts = http::parse_url(url_of(r));
    BOOST_REQUIRE(parts);
    BOOST_TEST(parts->tls);
    BOOST_TEST(parts->host == endpoint);
    BOOST_TEST(parts->port == 443);
    BOOST_TEST(parts->target == "/topics/sensors%2Froom%201%2Ftemp?qos=1");
}

BOOST_AUTO_TEST_CASE(qos_zero_and_retain) {
    auto r = make("t");
    r.qos = 0;
    BOOST_TEST(url_of(r) == "https://" + endpoint + ":8443/topics/t?qos=0");
    r.retain = true;
    BOOST_TEST(url_of(r) == "https://" + endpoint + ":8443/topics/t?qos=0&retain=true");
    r.qos = 1;
    BOOST_TEST(url_of(r) == "https://" + endpoint + ":8443/topics/t?qos=1&retain=true");
}

BOOST_AUTO_TEST_CASE(slashes_spaces_and_reserved_characters_are_encoded) {
    BOOST_TEST(aws::encode_topic("a/b c") == "a%2Fb%20c");
    BOOST_TEST(aws::encode_topic("$aws/things/gw-1/shadow/update") ==
               "%24aws%2Fthings%2Fgw-1%2Fshadow%2Fupdate");
    BOOST_TEST(aws::encode_topic("q?x=1&y=2;z") == "q%3Fx%3D1%26y%3D2%3Bz");
    BOOST_TEST(aws::encode_topic("100%") == "100%25");
    BOOST_TEST(aws::encode_topic("#+") == "%23%2B");
}

BOOST_AUTO_TEST_CASE(unreserved_characters_are_kept) {
    BOOST_TEST(aws::encode_topic("AZaz09-._~") == "AZaz09-._~");
}

BOOST_AUTO_TEST_CASE(unicode_is_encoded_as_utf8_bytes) {
    BOOST_TEST(aws::encode_topic("température/é") == "temp%C3%A9rature%2F%C3%A9");
    BOOST_TEST(aws::encode_topic("\xF0\x9F\x8C\xA1") == "%F0%9F%8C%A1"); // U+1F321 thermometer
}

BOOST_AUTO_TEST_CASE(encoded_topic_decodes_back_to_one_segment) {
    const std::string topic = "$aws/rules/my rule/température?#";
    const std::string url = "https://h/topics/" + aws::encode_topic(topic);
    const auto u = boost::urls::parse_uri(url);
    BOOST_REQUIRE(u);
    const auto segments = u->segments();
    BOOST_REQUIRE(segments.size() == 2u);
    BOOST_TEST(*std::next(segments.begin()) == topic);
}

BOOST_AUTO_TEST_CASE(empty_content_type_sends_no_header) {
    auto r = make("t");
    r.content_type.clear();
    const auto req = aws::make_publish_request(r);
    BOOST_REQUIRE(req);
    BOOST_TEST((req->headers == http::header_list{{"Connection", "keep-alive"}}));
}

BOOST_AUTO_TEST_CASE(ip_literal_endpoints_for_test_servers) {
    auto r = make("t");
    r.endpoint = "127.0.0.1";
    r.port = 9443;
    BOOST_TEST(url_of(r) == "https://127.0.0.1:9443/topics/t?qos=1");
    r.endpoint = "::1";
    BOOST_TEST(url_of(r) == "https://[::1]:9443/topics/t?qos=1");
    BOOST_TEST(http::parse_url(url_of(r))->host == "::1");
}

BOOST_AUTO_TEST_CASE(topic_validation) {
    using aws::error;
    const std::string longest(aws::max_topic_bytes, 'x');
    BOOST_TEST(!aws::validate_topic(longest));
    BOOST_TEST(aws::validate_topic(longest + "x") == make_error_code(error::topic_too_long));
    // The limit counts bytes: 128 two-byte characters fit, one more does not.
    std::string wide;
    for (int i = 0; i < 128; ++i)
        wide += "\xC3\xA9";
    BOOST_TEST(!aws::validate_topic(wide));
    BOOST_TEST(aws::validate_topic(wide + "x") == make_error_code(error::topic_too_long));
    BOOST_TEST(aws::validate_topic("") == make_error_code(error::empty_topic));
    BOOST_TEST(aws::validate_topic("sensors/+/temp") == make_error_code(error::wildcard_in_topic));
    BOOST_TEST(aws::validate_topic("sensors/#") == make_error_code(error::wildcard_in_topic));
    BOOST_TEST(aws::validate_topic(std::string("a\0b", 3)) == make_error_code(error::invalid_topic));
    BOOST_TEST(aws::validate_topic("bad\xC3\x28") ==
               make_error_code(error::invalid_topic)); // broken sequence
    BOOST_TEST(aws::validate_topic("trunc\xE2\x82") == make_error_code(error::invalid_topic)); // cut short
    BOOST_TEST(aws::validate_topic("over\xC0\xAF") == make_error_code(error::invalid_topic));  // overlong '/'
    BOOST_TEST(aws::validate_topic("surrogate\xED\xA0\x80") ==
               make_error_code(error::invalid_topic)); // U+D800
    BOOST_TEST(aws::validate_topic("big\xF4\x90\x80\x80") ==
               make_error_code(error::invalid_topic)); // above U+10FFFF
    BOOST_TEST(!aws::validate_topic("$aws/things/gw-1/shadow/update"));
    BOOST_TEST(!aws::validate_topic("/leading/and/trailing/"));
}

BOOST_AUTO_TEST_CASE(invalid_requests_are_refused_before_any_connection) {
    using aws::error;
    auto check = [](aws::publish_request r, error expected) {
        const auto req = aws::make_publish_request(r);
        BOOST_TEST(!req);
        if (!req)
            BOOST_TEST(req.error() == make_error_code(expected), req.error().message());
    };
    check(make(""), error::empty_topic);
    check(make("a/+"), error::wildcard_in_topic);
    auto r = make("t");
    r.qos = 2;
    check(r, error::invalid_qos);
    r.qos = -1;
    check(r, error::invalid_qos);
    r = make("t");
    r.port = 0;
    check(r, error::invalid_port);
    for (const char* bad : {"", "host/path", "exa mple.com", "a..b", "-a.example.com", "a-.example.com",
                            "user@host", "host:8443", "[::1]"}) {
        r = make("t");
        r.endpoint = bad;
        check(r, error::invalid_endpoint);
    }
}

BOOST_AUTO_TEST_CASE(mqtt5_properties_become_query_parameters_and_headers) {
    auto r = make("req/1");
    r.mqtt_content_type = "application/json; charset=utf-8";
    r.response_topic = "resp/gw 1";
    r.message_expiry = 3600;
    r.user_properties = {{"deviceName", "alpha"}, {"deviceCnt", "45"}};
    r.format = aws::payload_format::utf8_data;
    r.correlation_data = std::string("\x00\x01req-7", 7);
    const auto req = aws::make_publish_request(r);
    BOOST_REQUIRE(req);
    BOOST_TEST(req->url ==
               "https://" + endpoint +
                   ":8443/topics/req%2F1?qos=1&contentType=application%2Fjson%3B%20charset%3Dutf-8"
                   "&responseTopic=resp%2Fgw%201&messageExpiry=3600");
    // The example of AWS's Publish API reference: [{"deviceName": "alpha"}, {"deviceCnt": "45"}], base64.
    BOOST_TEST(
        (req->headers == http::header_list{{"Content-Type", "application/json"},
                                           {"Connection", "keep-alive"},
                                           {"x-amz-mqtt5-user-properties",
                                            "W3siZGV2aWNlTmFtZSI6ImFscGhhIn0seyJkZXZpY2VDbnQiOiI0NSJ9XQ=="},
                                           {"x-amz-mqtt5-payload-format-indicator", "UTF8_DATA"},
                                           {"x-amz-mqtt5-correlation-data", "AAFyZXEtNw=="}}));
    const auto parts = http::parse_url(req->url);
    BOOST_REQUIRE(parts);
    const auto u = boost::urls::parse_origin_form(parts->target);
    BOOST_REQUIRE(u);
    const auto params = u->params();
    BOOST_TEST((*params.find("contentType")).value == "application/json; charset=utf-8");
    BOOST_TEST((*params.find("responseTopic")).value == "resp/gw 1");
}

BOOST_AUTO_TEST_CASE(unset_properties_send_nothing) {
    auto r = make("t");
    r.format = aws::payload_format::unspecified_bytes;
    const auto req = aws::make_publish_request(r);
    BOOST_REQUIRE(req);
    BOOST_TEST(req->url == "https://" + endpoint + ":8443/topics/t?qos=1");
    BOOST_TEST(
        (req->headers == http::header_list{{"Content-Type", "application/json"},
                                           {"Connection", "keep-alive"},
                                           {"x-amz-mqtt5-payload-format-indicator", "UNSPECIFIED_BYTES"}}));
    r.message_expiry = 0; // zero is a value: sent
    BOOST_TEST(url_of(r) == "https://" + endpoint + ":8443/topics/t?qos=1&messageExpiry=0");
}

BOOST_AUTO_TEST_CASE(user_properties_keep_order_repeats_and_unicode) {
    const std::vector<aws::user_property> props{{"k", "1"}, {"k", "2"}, {"é \"q\"", ""}, {"", "v"}};
    const auto header = aws::encode_user_properties(props);
    const auto json = aws::base64_decode(header);
    BOOST_REQUIRE(json);
    BOOST_TEST(*json == R"([{"k":"1"},{"k":"2"},{"é \"q\"":""},{"":"v"}])");
    const auto back = aws::decode_user_properties(header);
    BOOST_REQUIRE(back);
    BOOST_TEST((*back == props));
    BOOST_TEST(aws::encode_user_properties({}).empty());
}

BOOST_AUTO_TEST_CASE(user_properties_decoding_refuses_other_shapes) {
    for (const char* json :
         {R"({"a":"b"})", R"([{"a":1}])", R"([{"a":"b","c":"d"}])", R"([{}])", R"(["a"])", "[", "null"})
        BOOST_TEST(!aws::decode_user_properties(aws::base64_encode(json)), json);
    BOOST_TEST(!aws::decode_user_properties("not base64!"));
    BOOST_TEST(aws::decode_user_properties(aws::base64_encode("[]"))->empty());
}

BOOST_AUTO_TEST_CASE(base64_round_trips_and_refuses_bad_input) {
    // RFC 4648 section 10 test vectors.
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        BOOST_TEST(aws::base64_encode(plain) == encoded);
        BOOST_TEST(aws::base64_decode(encoded).value_or("<refused>") == plain);
    }
    const std::string binary("\x00\xff\xfe\x80", 4);
    BOOST_TEST(aws::base64_decode(aws::base64_encode(binary)).value_or("") == binary);
    for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v\n", "Zm 9", "=Zm9", "Zg=a", "Zm-_"})
        BOOST_TEST(!aws::base64_decode(bad), bad);
}

BOOST_AUTO_TEST_CASE(retain_with_an_empty_payload_clears_the_retained_message) {
    auto r = make("status/gw-1");
    r.payload.clear();
    r.retain = true;
    const auto req = aws::make_publish_request(r);
    BOOST_REQUIRE(req);
    BOOST_TEST(req->url == "https://" + endpoint + ":8443/topics/status%2Fgw-1?qos=1&retain=true");
    BOOST_TEST(req->body.empty());
}

BOOST_AUTO_TEST_CASE(payload_limit_is_128_kb) {
    auto r = make("t");
    r.payload.assign(aws::max_payload_bytes, 'x');
    BOOST_TEST(static_cast<bool>(aws::make_publish_request(r)));
    r.payload += 'x';
    const auto req = aws::make_publish_request(r);
    BOOST_REQUIRE(!req);
    BOOST_TEST(req.error() == make_error_code(aws::error::message_too_large));
    BOOST_TEST(aws::max_payload_bytes == 131072u);
}

BOOST_AUTO_TEST_CASE(invalid_properties_are_refused_before_any_connection) {
    using aws::error;
    auto check = [](const aws::publish_request& r, error expected) {
        const auto req = aws::make_publish_request(r);
        BOOST_TEST(!req);
        if (!req)
            BOOST_TEST(req.error() == make_error_code(expected), req.error().message());
    };
    auto r = make("t");
    r.response_topic = "resp/+";
    check(r, error::invalid_response_topic);
    r.response_topic = std::string(aws::max_topic_bytes + 1, 'r');
    check(r, error::invalid_response_topic);
    r.response_topic = "resp\xC3";
    check(r, error::invalid_response_topic);
    r = make("t");
    r.mqtt_content_type = std::string("a\0b", 3);
    check(r, error::invalid_content_type);
    r.mqtt_content_type = std::string(aws::max_property_bytes + 1, 'c');
    check(r, error::invalid_content_type);
    r.mqtt_content_type = std::string(aws::max_property_bytes, 'c');
    BOOST_TEST(static_cast<bool>(aws::make_publish_request(r)));
    r = make("t");
    r.user_properties = {{"ok", "ok"}, {"bad\xFF", "v"}};
    check(r, error::invalid_user_property);
    r.user_properties = {{"k", std::string(aws::max_property_bytes + 1, 'v')}};
    check(r, error::invalid_user_property);
    r = make("t");
    r.format = aws::payload_format::utf8_data;
    r.payload = "\xC0\xAF";
    check(r, error::payload_not_utf8);
    r.format = aws::payload_format::unspecified_bytes;
    BOOST_TEST(static_cast<bool>(aws::make_publish_request(r))); // any bytes
}

BOOST_AUTO_TEST_SUITE_END()
