// SigV4 against AWS's published test suite ("aws-sig-v4-test-suite": request, canonical request,
// string to sign and Authorization per case; credentials AKIDEXAMPLE /
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1, service "service", 2015-08-30T12:36:00Z). The
// cases below were copied from the copy kept in awslabs/aws-c-auth, tests/aws-signing-test-suite/v4/<case>/
// (header-signed-request.txt, header-canonical-request.txt, header-string-to-sign.txt, context.json); the
// canonical request and string to sign of get-vanilla and post-x-www-form-urlencoded are those of the
// original suite's .creq and .sts files.
#include <edgeloop/aws/sigv4.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/publish.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

namespace aws = edgeloop::aws;
namespace http = edgeloop::http;

namespace {

const aws::signing_credentials suite_credentials{.access_key_id = "AKIDEXAMPLE",
                                                 .secret_access_key =
                                                     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                 .session_token = {},
                                                 .expiration = {}};
const std::string empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string scope_prefix =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

http::header_list suite_headers(http::header_list extra = {}) {
    http::header_list h{{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
}

aws::sigv4_signature sign(std::string_view method, std::string_view target, const http::header_list& headers,
                          std::string_view payload = {},
                          const aws::signing_credentials& creds = suite_credentials) {
    return aws::sigv4_sign(method, target, headers, payload, creds, "us-east-1", "service");
}

// 2015-08-30T12:36:00Z
const auto suite_time = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));

} // namespace

BOOST_AUTO_TEST_SUITE(aws_sigv4)

BOOST_AUTO_TEST_CASE(get_vanilla) {
    const auto s = sign("GET", "/", suite_headers());
    BOOST_TEST(s.canonical_request ==
               "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                   empty_sha256);
    BOOST_TEST(s.string_to_sign ==
               "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
               "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    BOOST_TEST(s.authorization ==
               scope_prefix + "SignedHeaders=host;x-amz-date, "
                              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

BOOST_AUTO_TEST_CASE(post_vanilla) {
    BOOST_TEST(sign("POST", "/", suite_headers()).authorization ==
               scope_prefix + "SignedHeaders=host;x-amz-date, "
                              "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

BOOST_AUTO_TEST_CASE(get_vanilla_query_order_key_case) {
    BOOST_TEST(sign("GET", "/?Param2=value2&Param1=value1", suite_headers()).authorization ==
               scope_prefix + "SignedHeaders=host;x-amz-date, "
                              "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

BOOST_AUTO_TEST_CASE(get_vanilla_empty_query_key) {
    BOOST_TEST(sign("GET", "/?Param1=value1", suite_headers()).authorization ==
               scope_prefix + "SignedHeaders=host;x-amz-date, "
                              "Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");
}

BOOST_AUTO_TEST_CASE(get_unreserved) {
    BOOST_TEST(
        sign("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", suite_headers())
            .authorization ==
        scope_prefix + "SignedHeaders=host;x-amz-date, "
                       "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

BOOST_AUTO_TEST_CASE(get_vanilla_utf8_query) {
    const auto s = sign("GET", "/?\xE1\x88\xB4=bar", suite_headers()); // U+1234
    BOOST_TEST(s.canonical_request.find("\n%E1%88%B4=bar\n") != std::string::npos, s.canonical_request);
    BOOST_TEST(s.authorization ==
               scope_prefix + "SignedHeaders=host;x-amz-date, "
                              "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
}

BOOST_AUTO_TEST_CASE(get_header_value_trim) {
    const auto s =
        sign("GET", "/", suite_headers({{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}));
    BOOST_TEST(s.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n") != std::string::npos,
               s.canonical_request);
    BOOST_TEST(s.authorization ==
               scope_prefix + "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                              "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

BOOST_AUTO_TEST_CASE(post_x_www_form_urlencoded) {
    const auto s = sign("POST", "/", suite_headers({{"Content-Type", "application/x-www-form-urlencoded"}}),
                        "Param1=value1");
    BOOST_TEST(s.canonical_request ==
               "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
               "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
               "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    BOOST_TEST(s.string_to_sign ==
               "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
               "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
    BOOST_TEST(s.authorization ==
               scope_prefix + "SignedHeaders=content-type;host;x-amz-date, "
                              "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

BOOST_AUTO_TEST_CASE(get_vanilla_with_session_token) {
    auto creds = suite_credentials;
    creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    BOOST_TEST(sign("GET", "/", suite_headers({{"X-Amz-Security-Token", creds.session_token}}), {}, creds)
                   .authorization ==
               scope_prefix + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                              "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
}

BOOST_AUTO_TEST_CASE(sign_request_reproduces_the_suite_from_an_http_request) {
    http::request req;
    req.url = "https://example.amazonaws.com/";
    BOOST_TEST(!aws::sign_request(req, suite_credentials, "us-east-1", "service", suite_time));
    BOOST_TEST((req.headers ==
                http::header_list{{"X-Amz-Date", "20150830T123600Z"},
                                  {"Authorization",
                                   scope_prefix +
                                       "SignedHeaders=host;x-amz-date, Signature="
                                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}}));
    // Signed again (a retry), the old signature is replaced, not added to.
    BOOST_TEST(!aws::sign_request(req, suite_credentials, "us-east-1", "service", suite_time));
    BOOST_TEST(req.headers.size() == 2u);
    auto with_token = suite_credentials;
    with_token.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    BOOST_TEST(!aws::sign_request(req, with_token, "us-east-1", "service", suite_time));
    BOOST_TEST(req.headers.back().second ==
               scope_prefix + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                              "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
}

BOOST_AUTO_TEST_CASE(a_signed_publish_signs_the_port_the_properties_and_not_connection) {
    aws::publish_request p;
    p.endpoint = "a1b2c3-ats.iot.eu-west-1.amazonaws.com";
    p.port = 443;
    p.topic = "sensors/gw 1";
    p.payload = "{}";
    p.user_properties = {{"k", "v"}};
    auto req = aws::make_publish_request(p);
    BOOST_REQUIRE(req);
    BOOST_TEST(!aws::sign_request(*req, suite_credentials, "eu-west-1", aws::iot_data_service, suite_time));
    const auto& auth = req->headers.back();
    BOOST_TEST(auth.first == "Authorization");
    BOOST_TEST(auth.second.starts_with(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/iotdevicegateway/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-mqtt5-user-properties, Signature="));
    // What a server recomputes from the request as sent: the Host the client sends (no :443), the
    // target with the topic's encoding encoded once more (AWS: every path segment twice but for S3).
    http::header_list sent = req->headers;
    sent.pop_back();
    sent.emplace_back("Host", "a1b2c3-ats.iot.eu-west-1.amazonaws.com");
    const auto s = aws::sigv4_sign("POST", "/topics/sensors%2Fgw%201?qos=1", sent, "{}", suite_credentials,
                                   "eu-west-1", aws::iot_data_service);
    BOOST_TEST(s.canonical_request.starts_with("POST\n/topics/sensors%252Fgw%25201\nqos=1\n"),
               s.canonical_request);
    BOOST_TEST(s.authorization == auth.second);
    // A different port is part of Host, hence of the signature.
    p.port = 8443;
    auto other = aws::make_publish_request(p);
    BOOST_TEST(!aws::sign_request(*other, suite_credentials, "eu-west-1", aws::iot_data_service, suite_time));
    BOOST_TEST(other->headers.back().second != auth.second);
}

BOOST_AUTO_TEST_CASE(signing_key_is_the_documented_hmac_chain) {
    // AWS's documentation example (Signature Version 4, "derive a signing key"): iam, 20150830, us-east-1.
    const auto key =
        aws::sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
    std::string hex;
    for (const unsigned char c : key) {
        constexpr const char* digits = "0123456789abcdef";
        hex += digits[c >> 4];
        hex += digits[c & 0x0f];
    }
    BOOST_TEST(hex == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

BOOST_AUTO_TEST_CASE(what_cannot_be_signed_is_refused) {
    http::request req;
    req.url = "https://example.amazonaws.com/";
    BOOST_TEST(aws::sign_request(req, {}, "us-east-1", "service", suite_time) ==
               make_error_code(aws::error::missing_credentials));
    req.body_file = "/etc/hostname";
    BOOST_TEST(aws::sign_request(req, suite_credentials, "us-east-1", "service", suite_time) ==
               make_error_code(aws::error::unsignable_body));
    BOOST_TEST(req.headers.empty());
}

BOOST_AUTO_TEST_CASE(amz_date_and_region_of_endpoint) {
    BOOST_TEST(aws::sigv4_amz_date(suite_time) == "20150830T123600Z");
    BOOST_TEST(aws::region_of_endpoint("a1b2c3-ats.iot.eu-west-1.amazonaws.com") == "eu-west-1");
    BOOST_TEST(aws::region_of_endpoint("a1b2c3-ats.iot.cn-north-1.amazonaws.com.cn") == "cn-north-1");
    BOOST_TEST(aws::region_of_endpoint("localhost").empty());
    BOOST_TEST(aws::region_of_endpoint("x.iot..amazonaws.com").empty());
    BOOST_TEST(aws::region_of_endpoint("x.iot.eu-west-1.example.com").empty());
}

BOOST_AUTO_TEST_SUITE_END()
