#include <edgeloop/core/log.hpp>

#include <boost/test/unit_test.hpp>

using namespace edgeloop::core;

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(credential_headers_are_redacted_whatever_their_case) {
    BOOST_TEST(redact_header("Authorization", "Bearer s3cr3t") == "<redacted>");
    BOOST_TEST(redact_header("proxy-AUTHORIZATION", "Basic abc") == "<redacted>");
    BOOST_TEST(redact_header("Cookie", "session=1") == "<redacted>");
    BOOST_TEST(redact_header("X-Amz-Security-Token", "tok") == "<redacted>");
}

BOOST_AUTO_TEST_CASE(every_credential_header_of_the_security_review_is_redacted) {
    for (const char* name : {"Authorization", "AUTHORIZATION", "Proxy-Authorization", "Cookie", "cookie",
                             "Set-Cookie", "X-Api-Key", "x-auth-token", "X-Amz-Security-Token"}) {
        BOOST_TEST(is_secret_header(name), name);
        BOOST_TEST(redact_header(name, "s3cr3t-value").find("s3cr3t") == std::string::npos, name);
    }
    // Empty values are redacted too: even "is it set" is not logged.
    BOOST_TEST(redact_header("Cookie", "") == "<redacted>");
}

BOOST_AUTO_TEST_CASE(ordinary_headers_are_kept) {
    BOOST_TEST(redact_header("Content-Type", "application/json") == "application/json");
    BOOST_TEST(!is_secret_header("Authorization-Hint"));
}

BOOST_AUTO_TEST_CASE(level_threshold_filters) {
    const auto saved = edgeloop::core::log::level();
    edgeloop::core::log::set_level(log_level::warn);
    BOOST_TEST(!edgeloop::core::log::enabled(log_level::info));
    BOOST_TEST(edgeloop::core::log::enabled(log_level::error));
    edgeloop::core::log::set_level(log_level::off);
    BOOST_TEST(!edgeloop::core::log::enabled(log_level::error));
    edgeloop::core::log::set_level(saved);
}

BOOST_AUTO_TEST_SUITE_END()
