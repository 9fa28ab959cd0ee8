// Device Shadow requests and responses, sans-io.
#include <edgeloop/aws/shadow_request.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/shadow_document.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace aws = edgeloop::aws;
using aws::error;

namespace {

const std::string origin = "https://a1b2c3-ats.iot.eu-west-1.amazonaws.com:8443";

aws::shadow_request shadow(std::string thing, std::string name = {}) {
    return {.endpoint = "a1b2c3-ats.iot.eu-west-1.amazonaws.com",
            .port = 8443,
            .thing = std::move(thing),
            .name = std::move(name)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_shadow)

BOOST_AUTO_TEST_CASE(classic_and_named_shadow_urls_and_methods) {
    auto get = aws::make_shadow_get_request(shadow("gw-1"));
    BOOST_REQUIRE(get);
    BOOST_TEST(get->method == "GET");
    BOOST_TEST(get->url == origin + "/things/gw-1/shadow");
    get = aws::make_shadow_get_request(shadow("gw-1", "$config:v2"));
    BOOST_REQUIRE(get);
    BOOST_TEST(get->url == origin + "/things/gw-1/shadow?name=%24config:v2");
    const auto del = aws::make_shadow_delete_request(shadow("gw-1", "net"));
    BOOST_REQUIRE(del);
    BOOST_TEST(del->method == "DELETE");
    BOOST_TEST(del->url == origin + "/things/gw-1/shadow?name=net");
    const auto list = aws::make_list_named_shadows_request(shadow("gw-1"), "tok/+=", 25u);
    BOOST_REQUIRE(list);
    BOOST_TEST(list->method == "GET");
    BOOST_TEST(list->url ==
               origin +
                   "/api/things/shadow/ListNamedShadowsForThing/gw-1?nextToken=tok%2F%2B%3D&pageSize=25");
    BOOST_TEST(aws::make_list_named_shadows_request(shadow("gw-1"))->url ==
               origin + "/api/things/shadow/ListNamedShadowsForThing/gw-1");
}

BOOST_AUTO_TEST_CASE(update_carries_the_document_and_the_version_for_optimistic_concurrency) {
    const std::string doc = R"({"state":{"desired":{"led":"on"}},"clientToken":"c-1"})";
    auto up = aws::make_shadow_update_request(shadow("gw-1"), doc);
    BOOST_REQUIRE(up);
    BOOST_TEST(up->method == "POST");
    BOOST_TEST(up->body == doc);
    up = aws::make_shadow_update_request(shadow("gw-1"), doc, 7u);
    BOOST_REQUIRE(up);
    const auto sent = boost::json::parse(up->body);
    BOOST_TEST(sent.at("version").to_number<std::uint64_t>() == 7u);
    BOOST_TEST(boost::json::serialize(sent.at("state")) == R"({"desired":{"led":"on"}})");
    for (const char* bad : {"", "[]", R"({"desired":{}})", R"({"state":1})", "{\"state\":{}"})
        BOOST_TEST(aws::make_shadow_update_request(shadow("gw-1"), bad).error() ==
                       make_error_code(error::invalid_shadow_document),
                   bad);
}

BOOST_AUTO_TEST_CASE(thing_and_shadow_names_are_validated) {
    BOOST_TEST(!aws::validate_thing_name(std::string(128, 'a')));
    BOOST_TEST(aws::validate_thing_name(std::string(129, 'a')) == make_error_code(error::invalid_thing_name));
    BOOST_TEST(aws::validate_thing_name("") == make_error_code(error::invalid_thing_name));
    BOOST_TEST(!aws::validate_thing_name("Gw_1:a-B"));
    for (const char* bad : {"gw 1", "gw/1", "gw$1", "gw?1", "gw%1", "gé"})
        BOOST_TEST(aws::validate_thing_name(bad) == make_error_code(error::invalid_thing_name), bad);
    BOOST_TEST(!aws::validate_shadow_name(""));
    BOOST_TEST(!aws::validate_shadow_name("$config"));
    BOOST_TEST(!aws::validate_shadow_name(std::string(64, 'n')));
    BOOST_TEST(aws::validate_shadow_name(std::string(65, 'n')) ==
               make_error_code(error::invalid_shadow_name));
    for (const char* bad : {"a b", "a/b", "a?b", "a.b"})
        BOOST_TEST(aws::validate_shadow_name(bad) == make_error_code(error::invalid_shadow_name), bad);
    BOOST_TEST(aws::make_shadow_get_request(shadow("gw/1")).error() ==
               make_error_code(error::invalid_thing_name));
    BOOST_TEST(aws::make_shadow_get_request(shadow("gw-1", "a b")).error() ==
               make_error_code(error::invalid_shadow_name));
    auto bad_endpoint = shadow("gw-1");
    bad_endpoint.endpoint = "a b";
    BOOST_TEST(aws::make_shadow_delete_request(bad_endpoint).error() ==
               make_error_code(error::invalid_endpoint));
}

BOOST_AUTO_TEST_CASE(a_document_is_parsed_into_its_parts) {
    // The shape of AWS's thing-shadow-rest-api GetThingShadow answer.
    const auto d = aws::parse_shadow_response(200, R"({
        "state": {"desired": {"color": "red", "power": "on"}, "reported": {"color": "blue", "power": "on"},
                  "delta": {"color": "red"}},
        "metadata": {"desired": {"color": {"timestamp": 1469564492}}, "reported": {"color": {"timestamp": 1469564400}}},
        "version": 12, "timestamp": 1469564800, "clientToken": "c-9"})");
    BOOST_TEST(!d.error);
    BOOST_TEST(boost::json::serialize(d.desired) == R"({"color":"red","power":"on"})");
    BOOST_TEST(boost::json::serialize(d.reported) == R"({"color":"blue","power":"on"})");
    BOOST_TEST(boost::json::serialize(d.delta) == R"({"color":"red"})");
    BOOST_TEST(d.metadata.at("desired").at("color").at("timestamp").to_number<int>() == 1469564492);
    BOOST_REQUIRE(d.version);
    BOOST_TEST(*d.version == 12u);
    BOOST_REQUIRE(d.timestamp);
    BOOST_TEST(*d.timestamp == 1469564800);
    BOOST_TEST(d.client_token == "c-9");
    const auto empty = aws::parse_shadow_response(200, R"({"version":3,"timestamp":1})"); // a delete's answer
    BOOST_TEST(!empty.error);
    BOOST_TEST(empty.desired.is_null());
    BOOST_TEST(empty.delta.is_null());
    BOOST_TEST(*empty.version == 3u);
    BOOST_TEST(aws::parse_shadow_response(200, "<html>").error ==
               make_error_code(error::invalid_response_json));
}

BOOST_AUTO_TEST_CASE(a_409_is_a_version_conflict_of_its_own_and_statuses_are_mapped) {
    const auto c = aws::parse_shadow_response(409, R"({"code":409,"message":"Version conflict"})");
    BOOST_TEST(c.error == make_error_code(error::version_conflict));
    BOOST_TEST(c.error != make_error_code(error::conflict));
    BOOST_TEST(c.message == "Version conflict");
    BOOST_TEST(!aws::is_retryable(c.error));
    const std::pair<unsigned, error> statuses[] = {{400, error::invalid_request},
                                                   {401, error::unauthorized},
                                                   {403, error::forbidden},
                                                   {404, error::not_found},
                                                   {409, error::version_conflict},
                                                   {413, error::payload_too_large},
                                                   {415, error::unsupported_document_encoding},
                                                   {429, error::throttled},
                                                   {500, error::internal_failure},
                                                   {503, error::service_unavailable}};
    for (const auto& [status, e] : statuses)
        BOOST_TEST(aws::parse_shadow_response(status, R"({"code":0,"message":"m"})").error ==
                       make_error_code(e),
                   status);
    BOOST_TEST(aws::is_retryable(aws::parse_shadow_response(429, "").error));
    BOOST_TEST(aws::is_retryable(aws::parse_shadow_response(503, "").error));
}

BOOST_AUTO_TEST_CASE(named_shadow_lists_are_parsed) {
    const auto l =
        aws::parse_named_shadow_list(200, R"({"results":["config","net"],"nextToken":"n-2","timestamp":5})");
    BOOST_TEST(!l.error);
    BOOST_TEST(l.names.size() == 2u);
    BOOST_TEST(l.names.at(1) == "net");
    BOOST_TEST(l.next_token == "n-2");
    BOOST_TEST(aws::parse_named_shadow_list(200, R"({"results":[]})").names.empty());
    BOOST_TEST(aws::parse_named_shadow_list(404, R"({"code":404,"message":"No shadow"})").error ==
               make_error_code(error::not_found));
}

BOOST_AUTO_TEST_SUITE_END()
