// AWS IoT credentials provider: request building, response parsing and the cache's expiry rules, sans-io.
#include <edgeloop/aws/credentials_cache.hpp>

#include <edgeloop/aws/credentials_request.hpp>
#include <edgeloop/aws/credentials_response.hpp>
#include <edgeloop/aws/error.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

namespace aws = edgeloop::aws;
using aws::error;
using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

namespace {

// 2018-01-18T09:18:06Z
const sys_clock::time_point jan18 = sys_clock::from_time_t(1516267086);

const std::string ok_body =
    R"({"credentials":{"accessKeyId":"ASIAEXAMPLEKEYID","secretAccessKey":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",)"
    R"("sessionToken":"FQoGZXIvYXdzEXAMPLE","expiration":"2018-01-18T09:18:06Z"}})";

aws::signing_credentials temporary(sys_clock::time_point expiration) {
    return {
        .access_key_id = "ASIA1", .secret_access_key = "s", .session_token = "t", .expiration = expiration};
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_credentials)

BOOST_AUTO_TEST_CASE(request_is_a_get_of_the_role_alias_with_the_thing_name) {
    auto req = aws::make_credentials_request({.endpoint = "c1d2e3.credentials.iot.eu-west-1.amazonaws.com",
                                              .port = 443,
                                              .role_alias = "gw-role=a,b@c_d-e",
                                              .thing_name = "gw-1"});
    BOOST_REQUIRE(req);
    BOOST_TEST(req->method == "GET");
    BOOST_TEST(req->url == "https://c1d2e3.credentials.iot.eu-west-1.amazonaws.com:443/role-aliases/"
                           "gw-role=a,b@c_d-e/credentials");
    BOOST_REQUIRE(req->headers.size() == 1u);
    BOOST_TEST(req->headers[0].first == "x-amzn-iot-thingname");
    BOOST_TEST(req->headers[0].second == "gw-1");
    auto without_thing =
        aws::make_credentials_request({.endpoint = "127.0.0.1", .port = 8443, .role_alias = "r"});
    BOOST_REQUIRE(without_thing);
    BOOST_TEST(without_thing->headers.empty());
}

BOOST_AUTO_TEST_CASE(bad_aliases_things_and_endpoints_are_refused_before_connecting) {
    const auto refused = [](aws::credentials_request r) { return aws::make_credentials_request(r).error(); };
    BOOST_TEST(refused({.endpoint = "h", .role_alias = ""}) == make_error_code(error::invalid_role_alias));
    BOOST_TEST(refused({.endpoint = "h", .role_alias = std::string(129, 'a')}) ==
               make_error_code(error::invalid_role_alias));
    BOOST_TEST(!aws::validate_role_alias(std::string(128, 'a')));
    BOOST_TEST(refused({.endpoint = "h", .role_alias = "a/b"}) == make_error_code(error::invalid_role_alias));
    BOOST_TEST(refused({.endpoint = "h", .role_alias = "a b"}) == make_error_code(error::invalid_role_alias));
    BOOST_TEST(refused({.endpoint = "h", .role_alias = "r", .thing_name = "a/b"}) ==
               make_error_code(error::invalid_thing_name));
    BOOST_TEST(refused({.endpoint = "bad host", .role_alias = "r"}) ==
               make_error_code(error::invalid_endpoint));
}

BOOST_AUTO_TEST_CASE(a_2xx_gives_the_four_fields) {
    const auto r = aws::parse_credentials_response(200, "", ok_body);
    BOOST_TEST(!r.error);
    BOOST_TEST(r.credentials.access_key_id == "ASIAEXAMPLEKEYID");
    BOOST_TEST(r.credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    BOOST_TEST(r.credentials.session_token == "FQoGZXIvYXdzEXAMPLE");
    BOOST_REQUIRE(r.credentials.expiration.has_value());
    BOOST_TEST((*r.credentials.expiration == jan18));
}

BOOST_AUTO_TEST_CASE(a_2xx_missing_a_field_or_with_a_bad_expiration_is_invalid_credentials) {
    for (
        const std::string& body :
        {std::string(""), std::string("not json"), std::string("[]"), std::string(R"({"credentials":"x"})"),
         std::string(
             R"({"credentials":{"secretAccessKey":"s","sessionToken":"t","expiration":"2018-01-18T09:18:06Z"}})"),
         std::string(
             R"({"credentials":{"accessKeyId":"a","sessionToken":"t","expiration":"2018-01-18T09:18:06Z"}})"),
         std::string(
             R"({"credentials":{"accessKeyId":"a","secretAccessKey":"s","expiration":"2018-01-18T09:18:06Z"}})"),
         std::string(R"({"credentials":{"accessKeyId":"a","secretAccessKey":"s","sessionToken":"t"}})"),
         std::string(
             R"({"credentials":{"accessKeyId":"a","secretAccessKey":"s","sessionToken":"t","expiration":"tomorrow"}})"),
         std::string(
             R"({"credentials":{"accessKeyId":"a","secretAccessKey":"s","sessionToken":"t","expiration":1516267086}})")}) {
        const auto r = aws::parse_credentials_response(200, "", body);
        BOOST_TEST(r.error == make_error_code(error::invalid_credentials), body);
        BOOST_TEST(r.credentials.secret_access_key.empty(), body);
    }
}

BOOST_AUTO_TEST_CASE(errors_are_named_from_x_amzn_error_type) {
    const auto r = aws::parse_credentials_response(
        403, "ForbiddenException:http://internal.amazon.com/coral/com.amazon.coral.service/",
        R"({"message":"Access Denied"})");
    BOOST_TEST(r.error == make_error_code(error::forbidden));
    BOOST_TEST(r.error_type == "ForbiddenException");
    BOOST_TEST(r.message == "Access Denied");
    BOOST_TEST(!r.credentials.complete());
    const auto throttled = aws::parse_credentials_response(429, "ThrottlingException", "<html>busy</html>");
    BOOST_TEST(throttled.error == make_error_code(error::throttled));
    BOOST_TEST(aws::is_retryable(throttled.error));
    BOOST_TEST(throttled.error_type == "ThrottlingException");
    BOOST_TEST(throttled.message.empty());
    // An error status with credentials in its body still is an error.
    BOOST_TEST(aws::parse_credentials_response(500, "", ok_body).error ==
               make_error_code(error::internal_failure));
}

BOOST_AUTO_TEST_CASE(iso8601_times_are_read_as_utc) {
    BOOST_TEST((aws::parse_iso8601_utc("2018-01-18T09:18:06Z") == jan18));
    BOOST_TEST((aws::parse_iso8601_utc("2018-01-18T09:18:06.789Z") == jan18));
    BOOST_TEST((aws::parse_iso8601_utc("2018-01-18T09:18:06+00:00") == jan18));
    BOOST_TEST(!aws::parse_iso8601_utc("2018-01-18T09:18:06"));
    BOOST_TEST(!aws::parse_iso8601_utc("2018-01-18T09:18:06+02:00"));
    BOOST_TEST(!aws::parse_iso8601_utc("2018-13-18T09:18:06Z"));
    BOOST_TEST(!aws::parse_iso8601_utc("2018-01-18 09:18:06Z"));
    BOOST_TEST(!aws::parse_iso8601_utc("2018-01-18T09:18:06.Z"));
    BOOST_TEST(!aws::parse_iso8601_utc(""));
}

BOOST_AUTO_TEST_CASE(cache_keeps_credentials_until_the_margin_before_expiry) {
    aws::credentials_cache cache(5min);
    BOOST_TEST(!cache.fresh(jan18));
    BOOST_TEST(!cache.refresh_at());
    cache.store(temporary(jan18 + 1h));
    BOOST_TEST((cache.refresh_at() == jan18 + 55min));
    BOOST_TEST(cache.fresh(jan18).has_value());
    BOOST_REQUIRE(cache.fresh(jan18 + 55min - 1s).has_value());
    BOOST_TEST(cache.fresh(jan18 + 55min - 1s)->session_token == "t");
    // From 5 minutes before the expiry on, a new fetch is due (the boundary included).
    BOOST_TEST(!cache.fresh(jan18 + 55min));
    BOOST_TEST(!cache.fresh(jan18 + 2h));
    cache.clear();
    BOOST_TEST(!cache.fresh(jan18));
}

BOOST_AUTO_TEST_CASE(credentials_shorter_lived_than_the_margin_are_never_fresh) {
    aws::credentials_cache cache; // 5 minutes
    BOOST_TEST((cache.margin() == aws::default_refresh_margin));
    cache.store(temporary(jan18 + 60s));
    BOOST_TEST(!cache.fresh(jan18));
}

BOOST_AUTO_TEST_CASE(long_term_keys_never_expire) {
    aws::credentials_cache cache;
    cache.store({.access_key_id = "AKID", .secret_access_key = "s", .session_token = {}, .expiration = {}});
    BOOST_TEST(cache.fresh(jan18 + 24h * 365 * 10).has_value());
    BOOST_TEST(!cache.refresh_at());
}

BOOST_AUTO_TEST_SUITE_END()
