#include <edgeloop/aws/response.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/retry/error.hpp>
#include <edgeloop/tls/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

namespace aws = edgeloop::aws;
using aws::error;
using boost::system::error_code;

BOOST_AUTO_TEST_SUITE(aws_response)

BOOST_AUTO_TEST_CASE(success_carries_message_and_trace_id) {
    const auto r =
        aws::parse_response(200, R"({"message":"OK","traceId":"5e1a7c12-3b7e-4c6f-9d1e-0a1b2c3d4e5f"})");
    BOOST_TEST(!r.error);
    BOOST_TEST(static_cast<bool>(r));
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.message == "OK");
    BOOST_TEST(r.trace_id == "5e1a7c12-3b7e-4c6f-9d1e-0a1b2c3d4e5f");
}

BOOST_AUTO_TEST_CASE(missing_unknown_and_mistyped_fields_are_tolerated) {
    auto r = aws::parse_response(200, R"({"traceId":"t-1","extra":{"nested":[1,2]}})");
    BOOST_TEST(!r.error);
    BOOST_TEST(r.message.empty());
    BOOST_TEST(r.trace_id == "t-1");
    r = aws::parse_response(200, R"({"message":42,"traceId":null})");
    BOOST_TEST(!r.error);
    BOOST_TEST(r.message.empty());
    BOOST_TEST(r.trace_id.empty());
    r = aws::parse_response(200, "{}");
    BOOST_TEST(!r.error);
}

BOOST_AUTO_TEST_CASE(empty_body_counts_as_an_empty_object) {
    BOOST_TEST(!aws::parse_response(200, "").error);
    BOOST_TEST(!aws::parse_response(204, " \r\n").error);
}

BOOST_AUTO_TEST_CASE(success_with_a_body_that_is_not_a_json_object_is_an_error) {
    for (const char* body : {"{\"message\":", "OK", "<html></html>", "[1,2]", "\"OK\"", "{} trailing"}) {
        const auto r = aws::parse_response(200, body);
        BOOST_TEST(r.error == make_error_code(error::invalid_response_json), "body: " << body);
        BOOST_TEST(!r);
    }
}

BOOST_AUTO_TEST_CASE(error_status_keeps_aws_reason) {
    const auto r = aws::parse_response(403, R"({"message":"Forbidden","traceId":"t-2"})");
    BOOST_TEST(r.error == make_error_code(error::forbidden));
    BOOST_TEST(r.message == "Forbidden");
    BOOST_TEST(r.trace_id == "t-2");
}

BOOST_AUTO_TEST_CASE(error_status_with_unreadable_body_keeps_the_status_error) {
    const auto r = aws::parse_response(503, "<html><body>Service Unavailable</body></html>");
    BOOST_TEST(r.error == make_error_code(error::service_unavailable));
    BOOST_TEST(r.message.empty());
}

BOOST_AUTO_TEST_CASE(statuses_map_to_named_errors) {
    BOOST_TEST(!aws::status_error(200));
    BOOST_TEST(!aws::status_error(201));
    BOOST_TEST(!aws::status_error(299));
    BOOST_TEST(aws::status_error(400) == make_error_code(error::invalid_request));
    BOOST_TEST(aws::status_error(401) == make_error_code(error::unauthorized));
    BOOST_TEST(aws::status_error(403) == make_error_code(error::forbidden));
    BOOST_TEST(aws::status_error(404) == make_error_code(error::not_found));
    BOOST_TEST(aws::status_error(405) == make_error_code(error::method_not_allowed));
    BOOST_TEST(aws::status_error(409) == make_error_code(error::conflict));
    BOOST_TEST(aws::status_error(413) == make_error_code(error::payload_too_large));
    BOOST_TEST(aws::status_error(429) == make_error_code(error::throttled));
    BOOST_TEST(aws::status_error(500) == make_error_code(error::internal_failure));
    BOOST_TEST(aws::status_error(503) == make_error_code(error::service_unavailable));
    BOOST_TEST(aws::status_error(502) == make_error_code(error::server_error));
    BOOST_TEST(aws::status_error(504) == make_error_code(error::server_error));
    for (unsigned other : {0u, 100u, 199u, 301u, 302u, 304u, 402u, 418u, 431u, 600u})
        BOOST_TEST(aws::status_error(other) == make_error_code(error::unexpected_status), "status " << other);
}

BOOST_AUTO_TEST_CASE(throttling_and_server_errors_are_retryable) {
    for (unsigned status : {429u, 500u, 502u, 503u, 504u})
        BOOST_TEST(aws::is_retryable(aws::status_error(status)), "status " << status);
}

BOOST_AUTO_TEST_CASE(client_errors_are_not_retryable) {
    for (unsigned status : {400u, 401u, 403u, 404u, 405u, 409u, 413u, 418u, 302u})
        BOOST_TEST(!aws::is_retryable(aws::status_error(status)), "status " << status);
    for (error e : {error::invalid_endpoint,     error::invalid_port,
                    error::empty_topic,          error::topic_too_long,
                    error::wildcard_in_topic,    error::invalid_topic,
                    error::invalid_qos,          error::invalid_response_json,
                    error::message_too_large,    error::invalid_response_topic,
                    error::invalid_content_type, error::invalid_user_property,
                    error::payload_not_utf8,     error::missing_credentials,
                    error::unsignable_body,      error::invalid_thing_name,
                    error::invalid_shadow_name,  error::invalid_shadow_document,
                    error::version_conflict,     error::unsupported_document_encoding})
        BOOST_TEST(!aws::is_retryable(e), make_error_code(e).message());
}

BOOST_AUTO_TEST_CASE(network_failures_are_retryable_configuration_faults_are_not) {
    namespace http = edgeloop::http;
    namespace tls = edgeloop::tls;
    for (http::error e :
         {http::error::resolve_failed, http::error::connection_refused, http::error::connect_failed,
          http::error::connect_timeout, http::error::handshake_timeout, http::error::response_head_timeout,
          http::error::connection_reset, http::error::partial_response, http::error::no_response})
        BOOST_TEST(aws::is_retryable(e), make_error_code(e).message());
    for (http::error e :
         {http::error::invalid_url, http::error::unsupported_scheme, http::error::header_too_large,
          http::error::body_too_large, http::error::malformed_response})
        BOOST_TEST(!aws::is_retryable(e), make_error_code(e).message());
    BOOST_TEST(aws::is_retryable(tls::error::handshake_failed));
    for (tls::error e : {tls::error::certificate_expired, tls::error::untrusted_issuer,
                         tls::error::host_name_mismatch, tls::error::client_certificate_rejected,
                         tls::error::alpn_not_negotiated, tls::error::file_not_found})
        BOOST_TEST(!aws::is_retryable(e), make_error_code(e).message());
    BOOST_TEST(aws::is_retryable(make_error_code(boost::system::errc::connection_reset)));
    BOOST_TEST(!aws::is_retryable(boost::asio::error::operation_aborted));
    BOOST_TEST(!aws::is_retryable(edgeloop::retry::error::retries_exhausted));
    BOOST_TEST(!aws::is_retryable(error_code{}));
}

BOOST_AUTO_TEST_CASE(every_aws_error_has_its_own_message) {
    BOOST_TEST(std::string(aws::aws_category().name()) == "edgeloop.aws");
    std::set<std::string> seen;
    for (int e = static_cast<int>(error::invalid_endpoint);
         e <= static_cast<int>(error::unsupported_document_encoding); ++e) {
        const auto msg = error_code(e, aws::aws_category()).message();
        BOOST_TEST(msg.find("unknown") == std::string::npos, "no message for " << e);
        BOOST_TEST(seen.insert(msg).second, "duplicate message: " << msg);
    }
}

BOOST_AUTO_TEST_SUITE_END()
