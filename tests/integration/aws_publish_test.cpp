// MQTT 5 publish properties built by aws::make_publish_request, sent by http::client and decoded by the
// devserver as AWS IoT decodes them.
#include <edgeloop/aws/publish.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/response.hpp>
#include <edgeloop/aws/sigv4.hpp>
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>

namespace aws = edgeloop::aws;
namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

struct publish_fixture {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    http::client client{ioc.get_executor(), tls::context({.ca_file = server.ca_file()})};

    aws::publish_request make(std::string topic) const {
        aws::publish_request r;
        r.endpoint = "127.0.0.1";
        r.port = server.port();
        r.topic = std::move(topic);
        r.payload = R"({"temp":21.5})";
        return r;
    }

    fetch_outcome publish(const aws::publish_request& r) {
        auto req = aws::make_publish_request(r);
        BOOST_REQUIRE_MESSAGE(req, "refused: " << req.error().message());
        return fetch(ioc, client, std::move(*req));
    }

    /// A request the builder would refuse, to see the server refuse it too.
    fetch_outcome raw_publish(const std::string& target, http::header_list headers, std::string body = "{}") {
        http::request r;
        r.method = "POST";
        r.url = server.url(target);
        r.headers = std::move(headers);
        r.body = std::move(body);
        return fetch(ioc, client, std::move(r));
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(aws_publish, publish_fixture)

BOOST_AUTO_TEST_CASE(every_property_reaches_the_server_intact) {
    auto r = make("sensors/gw 1/temp");
    r.mqtt_content_type = "application/json; charset=utf-8";
    r.response_topic = "sensors/gw 1/ack";
    r.message_expiry = 600;
    r.user_properties = {{"deviceName", "alpha"}, {"deviceCnt", "45"}, {"deviceName", "é"}};
    r.format = aws::payload_format::utf8_data;
    r.correlation_data = std::string("\x00\xffreq-42", 8);
    const auto out = publish(r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u, out.body);
    BOOST_TEST(aws::parse_response(out.info.status, out.body).message == "OK");
    const auto got = server.last_publish();
    BOOST_REQUIRE(got);
    BOOST_TEST(got->topic == "sensors/gw 1/temp");
    BOOST_TEST(got->qos == 1);
    BOOST_TEST(!got->retain);
    BOOST_TEST(got->payload == r.payload);
    BOOST_TEST(got->content_type == r.mqtt_content_type);
    BOOST_TEST(got->response_topic == r.response_topic);
    BOOST_REQUIRE(got->message_expiry);
    BOOST_TEST(*got->message_expiry == 600u);
    BOOST_TEST((got->user_properties == r.user_properties));
    BOOST_TEST(got->payload_format == "UTF8_DATA");
    BOOST_TEST(got->correlation_data == r.correlation_data);
}

BOOST_AUTO_TEST_CASE(a_plain_publish_carries_no_properties) {
    const auto out = publish(make("plain"));
    BOOST_TEST(out.info.status == 200u, out.body);
    const auto got = server.last_publish();
    BOOST_REQUIRE(got);
    BOOST_TEST(got->content_type.empty());
    BOOST_TEST(got->response_topic.empty());
    BOOST_TEST(!got->message_expiry);
    BOOST_TEST(got->user_properties.empty());
    BOOST_TEST(got->payload_format.empty());
    BOOST_TEST(got->correlation_data.empty());
}

BOOST_AUTO_TEST_CASE(retain_keeps_the_message_and_an_empty_retained_publish_clears_it) {
    auto r = make("status/gw-1");
    r.retain = true;
    BOOST_TEST(publish(r).info.status == 200u);
    BOOST_TEST(server.retained_message("status/gw-1").value_or("<none>") == r.payload);
    r.payload.clear();
    const auto out = publish(r);
    BOOST_TEST(out.info.status == 200u, out.body);
    BOOST_TEST(!server.retained_message("status/gw-1"));
    BOOST_REQUIRE(server.last_publish());
    BOOST_TEST(server.last_publish()->retain);
    BOOST_TEST(server.last_publish()->payload.empty());
}

BOOST_AUTO_TEST_CASE(the_largest_payload_passes_and_the_server_refuses_a_larger_one) {
    auto r = make("big");
    r.payload.assign(aws::max_payload_bytes, 'x');
    BOOST_TEST(publish(r).info.status == 200u);
    BOOST_TEST(server.last_publish()->payload.size() == aws::max_payload_bytes);
    const auto out = raw_publish("/topics/big?qos=1", {}, std::string(aws::max_payload_bytes + 1, 'x'));
    BOOST_TEST(out.info.status == 413u);
    BOOST_TEST(aws::parse_response(out.info.status, out.body).error ==
               make_error_code(aws::error::payload_too_large));
}

BOOST_AUTO_TEST_CASE(the_server_refuses_malformed_properties_as_aws_does) {
    const std::pair<std::string, http::header_list> bad[] = {
        {"/topics/t?qos=2", {}},
        {"/topics/t?qos=1&retain=yes", {}},
        {"/topics/t?qos=1&messageExpiry=-1", {}},
        {"/topics/t?qos=1&messageExpiry=4294967296", {}},
        {"/topics/t?qos=1&responseTopic=a%2F%23", {}},
        {"/topics/t?qos=1", {{"x-amz-mqtt5-user-properties", "[{\"a\":\"b\"}]"}}}, // JSON, not base64
        {"/topics/t?qos=1", {{"x-amz-mqtt5-user-properties", aws::base64_encode(R"({"a":"b"})")}}},
        {"/topics/t?qos=1", {{"x-amz-mqtt5-payload-format-indicator", "UTF8"}}},
        {"/topics/t?qos=1", {{"x-amz-mqtt5-correlation-data", "not base64"}}},
    };
    for (const auto& [target, headers] : bad) {
        const auto out = raw_publish(target, headers);
        BOOST_TEST(out.info.status == 400u, target << " answered " << out.info.status << ": " << out.body);
        BOOST_TEST(aws::parse_response(out.info.status, out.body).error ==
                   make_error_code(aws::error::invalid_request));
    }
    BOOST_TEST(!server.last_publish());
}

BOOST_AUTO_TEST_SUITE_END()

// SigV4-signed publishes to the devserver, which recomputes each signature from what it received.
namespace {

const aws::signing_credentials demo_keys{.access_key_id = "AKIDEDGELOOPTEST",
                                         .secret_access_key = "c2VjcmV0LXRoYXQtaXMtbm90LXJlYWw",
                                         .session_token = "token-of-the-session",
                                         .expiration = {}};

struct sigv4_fixture {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor(), {.sigv4_credentials = demo_keys}};
    http::client client{ioc.get_executor(), tls::context({.ca_file = server.ca_file()})};

    http::request
    signed_publish(const aws::signing_credentials& creds,
                   std::chrono::system_clock::time_point when = std::chrono::system_clock::now(),
                   std::string_view region = "us-east-1") {
        aws::publish_request p;
        p.endpoint = "127.0.0.1";
        p.port = server.port();
        p.topic = "sensors/gw 1";
        p.payload = R"({"temp":21.5})";
        p.user_properties = {{"k", "v"}};
        auto req = aws::make_publish_request(p);
        BOOST_REQUIRE(req);
        BOOST_REQUIRE(!aws::sign_request(*req, creds, region, aws::iot_data_service, when));
        return std::move(*req);
    }

    unsigned status_of(http::request req) { return fetch(ioc, client, std::move(req)).info.status; }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(aws_sigv4_publish, sigv4_fixture)

BOOST_AUTO_TEST_CASE(a_correctly_signed_publish_is_accepted) {
    const auto out = fetch(ioc, client, signed_publish(demo_keys));
    BOOST_TEST(out.info.status == 200u, out.body);
    BOOST_REQUIRE(server.last_publish());
    BOOST_TEST(server.last_publish()->topic == "sensors/gw 1");
    // Signed again for a second attempt on the same connection: still valid.
    BOOST_TEST(status_of(signed_publish(demo_keys)) == 200u);
}

BOOST_AUTO_TEST_CASE(every_flaw_of_a_signature_is_refused_with_403) {
    auto wrong_secret = demo_keys;
    wrong_secret.secret_access_key += "x";
    BOOST_TEST(status_of(signed_publish(wrong_secret)) == 403u);
    auto wrong_key = demo_keys;
    wrong_key.access_key_id = "AKIDSOMEONEELSE";
    BOOST_TEST(status_of(signed_publish(wrong_key)) == 403u);
    auto no_token = demo_keys;
    no_token.session_token.clear();
    BOOST_TEST(status_of(signed_publish(no_token)) == 403u);
    BOOST_TEST(status_of(signed_publish(demo_keys,
                                        std::chrono::system_clock::now() - std::chrono::minutes(6))) == 403u);
    BOOST_TEST(status_of(signed_publish(demo_keys, std::chrono::system_clock::now(), "eu-west-1")) == 403u);
    auto tampered_body = signed_publish(demo_keys);
    tampered_body.body = R"({"temp":99.9})";
    BOOST_TEST(status_of(std::move(tampered_body)) == 403u);
    auto tampered_header = signed_publish(demo_keys);
    tampered_header.headers[2].second =
        aws::encode_user_properties({{"k", "w"}}); // x-amz-mqtt5-user-properties
    BOOST_TEST(tampered_header.headers[2].first == "x-amz-mqtt5-user-properties");
    BOOST_TEST(status_of(std::move(tampered_header)) == 403u);
    auto tampered_query = signed_publish(demo_keys);
    tampered_query.url += "&retain=true";
    BOOST_TEST(status_of(std::move(tampered_query)) == 403u);
    http::request unsigned_req;
    unsigned_req.method = "POST";
    unsigned_req.url = server.url("/topics/t?qos=1");
    const auto out = fetch(ioc, client, unsigned_req);
    BOOST_TEST(out.info.status == 403u);
    BOOST_TEST(aws::parse_response(out.info.status, out.body).message == "Missing Authentication Token");
    BOOST_TEST(!server.last_publish());
}

BOOST_AUTO_TEST_SUITE_END()
