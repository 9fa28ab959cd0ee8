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

BOOST_AUTO_TEST_CASE(credentials_in_a_url_are_redacted) {
    BOOST_TEST(redact_url("https://user:pa55@host:8443/p?q=1") == "https://<redacted>@host:8443/p?q=1");
    BOOST_TEST(redact_url("http://TOKEN@host/") == "http://<redacted>@host/");
    BOOST_TEST(redact_url("http://a:b@c@host/x@y") == "http://<redacted>@host/x@y");
    BOOST_TEST(redact_url("https://host/path@x?mail=a@b") == "https://host/path@x?mail=a@b");
    BOOST_TEST(redact_url("https://host:1/") == "https://host:1/");
    BOOST_TEST(redact_url("not a url @ all") == "not a url @ all");
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
