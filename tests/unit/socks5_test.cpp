// The SOCKS5 client protocol (lib/src/http/socks5.hpp, private): the bytes it sends and how it reads each
// answer, without sockets.
#include "http/socks5.hpp"

#include <edgeloop/http/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace http = edgeloop::http;
using http::detail::socks5_handshake;
using namespace std::string_literals;

namespace {

http::proxy_endpoint proxy(bool credentials, http::proxy_scheme scheme = http::proxy_scheme::socks5h) {
    http::proxy_endpoint p;
    p.scheme = scheme;
    p.host = "127.0.0.1";
    p.port = 1080;
    if (credentials) {
        p.user = "alice";
        p.password = "s3cret";
        p.has_credentials = true;
    }
    return p;
}

/// Writes what the handshake has to write, checking the bytes.
void expect_write(socks5_handshake& h, const std::string& bytes) {
    BOOST_TEST_REQUIRE(static_cast<int>(h.current()) == static_cast<int>(socks5_handshake::state::write));
    BOOST_TEST(std::string(h.to_write()) == bytes);
    h.written();
}

void answer(socks5_handshake& h, const std::string& bytes) {
    BOOST_TEST_REQUIRE(static_cast<int>(h.current()) == static_cast<int>(socks5_handshake::state::read));
    BOOST_TEST_REQUIRE(h.to_read() <= bytes.size());
    h.received(std::string_view(bytes).substr(0, h.to_read()));
}

bool failed(const socks5_handshake& h) {
    return h.current() == socks5_handshake::state::failed;
}

} // namespace

BOOST_AUTO_TEST_SUITE(socks5_protocol)

BOOST_AUTO_TEST_CASE(a_name_goes_as_a_domain_and_the_bound_address_is_read_whole) {
    socks5_handshake h("example.com", false, 443, proxy(false));
    expect_write(h, "\x05\x01\x00"s);
    answer(h, "\x05\x00"s);
    expect_write(h, "\x05\x01\x00\x03\x0b"s + "example.com" + "\x01\xbb"s);
    answer(h, "\x05\x00\x00\x01\x7f"s);
    BOOST_TEST(h.to_read() == 5u); // the rest of an IPv4 address and the port
    answer(h, "\x00\x00\x01\x04\x38"s);
    BOOST_TEST(static_cast<int>(h.current()) == static_cast<int>(socks5_handshake::state::done));
}

BOOST_AUTO_TEST_CASE(addresses_go_as_ipv4_or_ipv6_and_a_domain_reply_is_read_by_its_length) {
    socks5_handshake v4("10.1.2.3", true, 80, proxy(false, http::proxy_scheme::socks5));
    expect_write(v4, "\x05\x01\x00"s);
    answer(v4, "\x05\x00"s);
    expect_write(v4, "\x05\x01\x00\x01\x0a\x01\x02\x03\x00\x50"s);
    socks5_handshake v6("::1", true, 8443, proxy(false, http::proxy_scheme::socks5));
    expect_write(v6, "\x05\x01\x00"s);
    answer(v6, "\x05\x00"s);
    expect_write(v6, "\x05\x01\x00\x04"s + std::string(15, '\0') + "\x01\x20\xfb"s);
    answer(v6, "\x05\x00\x00\x03\x04"s);
    BOOST_TEST(v6.to_read() == 4u + 2u);
}

BOOST_AUTO_TEST_CASE(credentials_are_offered_and_sent_as_rfc_1929) {
    socks5_handshake h("h", false, 1, proxy(true));
    expect_write(h, "\x05\x02\x00\x02"s);
    answer(h, "\x05\x02"s);
    expect_write(h, "\x01\x05"s + "alice" + "\x06"s + "s3cret");
    answer(h, "\x01\x00"s);
    BOOST_TEST(static_cast<int>(h.current()) == static_cast<int>(socks5_handshake::state::write)); // CONNECT
}

BOOST_AUTO_TEST_CASE(a_refused_password_is_socks_auth_failed_without_the_credentials) {
    socks5_handshake h("h", false, 1, proxy(true));
    expect_write(h, "\x05\x02\x00\x02"s);
    answer(h, "\x05\x02"s);
    h.written();
    answer(h, "\x01\x01"s);
    BOOST_TEST(failed(h));
    BOOST_TEST(h.error() == make_error_code(http::error::socks_auth_failed));
    BOOST_TEST(h.detail().find("s3cret") == std::string::npos);
    BOOST_TEST(h.detail().find("proxy socks5h://127.0.0.1:1080") != std::string::npos, h.detail());
}

BOOST_AUTO_TEST_CASE(no_acceptable_method_and_an_unoffered_method_are_errors) {
    socks5_handshake none("h", false, 1, proxy(false));
    none.written();
    answer(none, "\x05\xff"s);
    BOOST_TEST(none.error() == make_error_code(http::error::socks_no_acceptable_method));
    socks5_handshake gssapi("h", false, 1, proxy(false));
    gssapi.written();
    answer(gssapi, "\x05\x01"s);
    BOOST_TEST(gssapi.error() == make_error_code(http::error::bad_socks_response));
    socks5_handshake socks4("h", false, 1, proxy(false));
    socks4.written();
    answer(socks4, "\x00\x5a"s);
    BOOST_TEST(socks4.error() == make_error_code(http::error::bad_socks_response));
}

BOOST_AUTO_TEST_CASE(each_reply_code_is_its_own_error_naming_code_meaning_and_target) {
    const http::error expected[] = {http::error::socks_general_failure,
                                    http::error::socks_not_allowed,
                                    http::error::socks_network_unreachable,
                                    http::error::socks_host_unreachable,
                                    http::error::socks_refused,
                                    http::error::socks_ttl_expired,
                                    http::error::socks_command_not_supported,
                                    http::error::socks_address_type_not_supported,
                                    http::error::bad_socks_response};
    for (unsigned rep = 1; rep <= 9; ++rep) {
        BOOST_TEST_CONTEXT("reply " << rep) {
            socks5_handshake h("example.com", false, 443, proxy(false));
            h.written();
            answer(h, "\x05\x00"s);
            h.written();
            answer(h, "\x05"s + static_cast<char>(rep) + "\x00\x01\x00"s);
            BOOST_TEST(failed(h));
            BOOST_TEST(h.error() == make_error_code(expected[rep - 1]));
            BOOST_TEST(h.detail().find("answered SOCKS5 reply " + std::to_string(rep)) != std::string::npos,
                       h.detail());
            BOOST_TEST(h.detail().find("to CONNECT example.com:443") != std::string::npos, h.detail());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_close_mid_handshake_and_oversized_fields_are_named) {
    socks5_handshake h("h", false, 1, proxy(false));
    h.written();
    h.failed_io(boost::asio::error::eof);
    BOOST_TEST(h.error() == make_error_code(http::error::bad_socks_response));
    BOOST_TEST(h.detail().find("closed the connection during the SOCKS5 handshake") != std::string::npos);
    socks5_handshake long_name(std::string(256, 'a'), false, 1, proxy(false));
    BOOST_TEST(long_name.error() == make_error_code(http::error::invalid_url));
    auto p = proxy(true);
    p.password = std::string(256, 'p');
    socks5_handshake long_password("h", false, 1, p);
    BOOST_TEST(long_password.error() == make_error_code(http::error::invalid_proxy));
    BOOST_TEST(long_password.detail().find("ppp") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
