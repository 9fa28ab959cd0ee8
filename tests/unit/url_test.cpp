#include <edgeloop/http/url.hpp>

#include <edgeloop/http/error.hpp>

#include <boost/test/unit_test.hpp>

using edgeloop::http::error;
using edgeloop::http::parse_url;

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(https_default_port_and_root_target) {
    auto u = parse_url("https://Example.COM");
    BOOST_REQUIRE(u);
    BOOST_TEST(u->tls);
    BOOST_TEST(u->host == "example.com");
    BOOST_TEST(u->port == 443);
    BOOST_TEST(u->target == "/");
    BOOST_TEST(!u->host_is_ip);
    BOOST_TEST(u->host_header() == "example.com");
    BOOST_TEST(u->authority() == "example.com:443");
}

BOOST_AUTO_TEST_CASE(http_default_port_keeps_path_and_query) {
    auto u = parse_url("http://httpstat.us/200?sleep=5000");
    BOOST_REQUIRE(u);
    BOOST_TEST(!u->tls);
    BOOST_TEST(u->port == 80);
    BOOST_TEST(u->target == "/200?sleep=5000");
}

BOOST_AUTO_TEST_CASE(explicit_port_appears_in_host_header) {
    auto u = parse_url("https://localhost:8443/topics/a%20b?qos=1");
    BOOST_REQUIRE(u);
    BOOST_TEST(u->port == 8443);
    BOOST_TEST(u->host_header() == "localhost:8443");
    BOOST_TEST(u->target == "/topics/a%20b?qos=1");
}

BOOST_AUTO_TEST_CASE(ipv4_literal_is_an_ip_host) {
    auto u = parse_url("https://127.0.0.1:9000/x");
    BOOST_REQUIRE(u);
    BOOST_TEST(u->host_is_ip);
    BOOST_TEST(u->host == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(ipv6_literal_loses_brackets_but_authority_keeps_them) {
    auto u = parse_url("http://[::1]:8080/");
    BOOST_REQUIRE(u);
    BOOST_TEST(u->host_is_ip);
    BOOST_TEST(u->host == "::1");
    BOOST_TEST(u->authority() == "[::1]:8080");
    BOOST_TEST(u->host_header() == "[::1]:8080");
}

BOOST_AUTO_TEST_CASE(tls_name_drops_the_trailing_dot_of_an_absolute_name) {
    // SNI (RFC 6066 3) and the certificate check see "localhost", whatever the URL spelled.
    auto u = parse_url("https://LocalHost.:8443/");
    BOOST_REQUIRE(u);
    BOOST_TEST(u->host == "localhost.");
    BOOST_TEST(u->tls_name() == "localhost");
    BOOST_TEST(parse_url("https://localhost/")->tls_name() == "localhost");
    BOOST_TEST(parse_url("https://127.0.0.1/")->tls_name() == "127.0.0.1");
    BOOST_TEST(parse_url("https://[::1]/")->tls_name() == "::1");
}

BOOST_AUTO_TEST_CASE(other_schemes_are_refused) {
    auto u = parse_url("ftp://example.com/file");
    BOOST_REQUIRE(!u);
    BOOST_TEST(u.error() == make_error_code(error::unsupported_scheme));
}

BOOST_AUTO_TEST_CASE(garbage_and_relative_references_are_invalid) {
    for (const char* text : {"", "not a url", "/relative/path", "https://", "https://host:0/",
                             "https://host:99999/", "http://exa mple.com/"}) {
        auto u = parse_url(text);
        BOOST_TEST(!u, "accepted: " << text);
        if (!u)
            BOOST_TEST((u.error() == make_error_code(error::invalid_url) ||
                        u.error() == make_error_code(error::unsupported_scheme)));
    }
}

// Found by url_fuzz: Boost.URL 1.81 parses these with a path that lacks its leading '/', so the host
// was not the one the URL seems to name ("127.0.0.1." / "evil.com") and the request target was "./" or
// "@evil.com/".
BOOST_AUTO_TEST_CASE(authority_followed_by_a_relative_path_is_invalid) {
    for (const char* text : {"http://127.0.0.1./", "http://user:pass@example.com@evil.com/"}) {
        auto u = parse_url(text);
        BOOST_TEST(!u, "accepted: " << text);
        if (!u)
            BOOST_TEST(u.error() == make_error_code(error::invalid_url));
    }
}

// Found by url_fuzz: a percent-encoded IP literal was a host *name* (host_is_ip false).
BOOST_AUTO_TEST_CASE(percent_encoded_ip_literal_is_an_ip_host) {
    auto v4 = parse_url("http://1.0%2e0.1:8008/");
    BOOST_REQUIRE(v4);
    BOOST_TEST(v4->host == "1.0.0.1");
    BOOST_TEST(v4->host_is_ip);
    auto v6 = parse_url("https://%3A%3a1/");
    BOOST_REQUIRE(v6);
    BOOST_TEST(v6->host == "::1");
    BOOST_TEST(v6->host_is_ip);
    BOOST_TEST(v6->authority() == "[::1]:443");
}

BOOST_AUTO_TEST_CASE(percent_encoded_controls_and_delimiters_in_a_host_are_invalid) {
    for (const char* text : {"http://a%0d%0aX-Injected:%20y/", "http://a%20b/", "http://a%2fb/",
                             "http://a%40b/", "http://a%00b/", "http://a%3ab/"}) {
        auto u = parse_url(text);
        BOOST_TEST(!u, "accepted: " << text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
