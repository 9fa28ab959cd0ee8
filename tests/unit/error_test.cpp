#include <edgeloop/core/errc.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/http/response.hpp>
#include <edgeloop/tls/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/errc.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(categories_have_project_names) {
    BOOST_TEST(std::string(http::http_category().name()) == "edgeloop.http");
    BOOST_TEST(std::string(tls::tls_category().name()) == "edgeloop.tls");
}

BOOST_AUTO_TEST_CASE(every_http_error_has_its_own_message) {
    std::set<std::string> seen;
    for (int e = static_cast<int>(http::error::invalid_url);
         e <= static_cast<int>(http::error::unsupported_content_encoding); ++e) {
        const auto msg = boost::system::error_code(e, http::http_category()).message();
        BOOST_TEST(msg.find("unknown") == std::string::npos, "no message for " << e);
        BOOST_TEST(seen.insert(msg).second, "duplicate message: " << msg);
    }
}

BOOST_AUTO_TEST_CASE(every_tls_error_has_its_own_message) {
    std::set<std::string> seen;
    for (int e = static_cast<int>(tls::error::file_not_found);
         e <= static_cast<int>(tls::error::alpn_not_negotiated); ++e) {
        const auto msg = boost::system::error_code(e, tls::tls_category()).message();
        BOOST_TEST(msg.find("unknown") == std::string::npos, "no message for " << e);
        BOOST_TEST(seen.insert(msg).second, "duplicate message: " << msg);
    }
}

BOOST_AUTO_TEST_CASE(enums_convert_to_error_codes) {
    boost::system::error_code ec = http::error::connect_timeout;
    BOOST_TEST((ec.category() == http::http_category()));
    ec = tls::error::certificate_expired;
    BOOST_TEST((ec.category() == tls::tls_category()));
    BOOST_TEST(ec != boost::system::error_code(http::error::connect_timeout));
}

BOOST_AUTO_TEST_CASE(describe_names_the_peer_the_reason_and_the_detail) {
    http::transfer_info info;
    info.url = "https://example.com/";
    info.peer = "example.com:443";
    info.detail = "certificate has expired";
    const auto text = http::describe(tls::error::certificate_expired, info);
    BOOST_TEST(text == "example.com:443: server certificate has expired (certificate has expired)");
    BOOST_TEST(http::describe({}, info) == "ok");
}

BOOST_AUTO_TEST_CASE(describe_falls_back_to_the_url_without_a_peer) {
    http::transfer_info info;
    info.url = "bogus";
    BOOST_TEST(http::describe(http::error::invalid_url, info) == "bogus: invalid URL");
}

BOOST_AUTO_TEST_CASE(the_seven_timeouts_are_timeouts_and_nothing_else_is) {
    using edgeloop::errc;
    for (const http::error e :
         {http::error::resolve_timeout, http::error::connect_timeout, http::error::handshake_timeout,
          http::error::write_timeout, http::error::response_head_timeout, http::error::idle_timeout,
          http::error::total_timeout}) {
        const boost::system::error_code ec = e;
        BOOST_TEST((ec == errc::timeout), ec.message());
        BOOST_TEST((ec.default_error_condition() == errc::timeout), ec.message());
        BOOST_TEST((ec != errc::server_certificate));
        BOOST_TEST((ec != errc::tls_handshake));
    }
    for (int e = static_cast<int>(http::error::invalid_url);
         e <= static_cast<int>(http::error::request_body_not_replayable); ++e) {
        const boost::system::error_code ec(e, http::http_category());
        const bool timeout = ec.message().find("timed out") != std::string::npos ||
                             static_cast<http::error>(e) == http::error::total_timeout;
        BOOST_TEST((ec == errc::timeout) == timeout, ec.message());
    }
    for (int e = static_cast<int>(tls::error::file_not_found);
         e <= static_cast<int>(tls::error::alpn_not_negotiated); ++e)
        BOOST_TEST((boost::system::error_code(e, tls::tls_category()) != errc::timeout));
    // The operating system's own timeout is one too.
    BOOST_TEST((boost::system::error_code(boost::asio::error::timed_out) == errc::timeout));
    BOOST_TEST((boost::system::error_code(boost::asio::error::connection_refused) != errc::timeout));
}

BOOST_AUTO_TEST_CASE(certificate_reasons_are_server_certificate_and_tls_handshake_failures) {
    using edgeloop::errc;
    for (const tls::error e : {tls::error::certificate_expired, tls::error::certificate_not_yet_valid,
                               tls::error::untrusted_issuer, tls::error::self_signed_certificate,
                               tls::error::host_name_mismatch, tls::error::certificate_invalid}) {
        const boost::system::error_code ec = e;
        BOOST_TEST((ec == errc::server_certificate), ec.message());
        BOOST_TEST((ec.default_error_condition() == errc::server_certificate), ec.message());
        BOOST_TEST((ec == errc::tls_handshake), ec.message());
        BOOST_TEST((ec != errc::client_certificate), ec.message());
    }
    for (const tls::error e : {tls::error::handshake_failed, tls::error::client_certificate_rejected,
                               tls::error::protocol_version_rejected, tls::error::alpn_not_negotiated}) {
        const boost::system::error_code ec = e;
        BOOST_TEST((ec != errc::server_certificate), ec.message());
        BOOST_TEST((ec == errc::tls_handshake), ec.message());
    }
    const boost::system::error_code rejected = tls::error::client_certificate_rejected;
    BOOST_TEST((rejected == errc::client_certificate));
    BOOST_TEST((rejected.default_error_condition() == errc::client_certificate));
    // Configuration faults are not handshake failures.
    const boost::system::error_code config = tls::error::file_not_found;
    BOOST_TEST((config != errc::tls_handshake));
    BOOST_TEST((config.default_error_condition() ==
                boost::system::error_condition(config.value(), tls::tls_category())));
    BOOST_TEST((boost::system::error_code(http::error::handshake_timeout) != errc::tls_handshake));
}

BOOST_AUTO_TEST_CASE(resolve_failed_is_a_name_resolution_failure) {
    using edgeloop::errc;
    const boost::system::error_code ec = http::error::resolve_failed;
    BOOST_TEST((ec == errc::name_resolution));
    BOOST_TEST((boost::system::error_code(http::error::connect_failed) != errc::name_resolution));
    BOOST_TEST((boost::system::error_code(http::error::resolve_timeout) != errc::name_resolution));
}

BOOST_AUTO_TEST_CASE(conditions_have_their_category_and_messages) {
    using edgeloop::errc;
    BOOST_TEST(std::string(edgeloop::condition_category().name()) == "edgeloop.condition");
    std::set<std::string> seen;
    for (const errc c : {errc::timeout, errc::server_certificate, errc::client_certificate,
                         errc::tls_handshake, errc::name_resolution}) {
        const boost::system::error_condition cond = c;
        BOOST_TEST((cond.category() == edgeloop::condition_category()));
        BOOST_TEST(cond.message().find("unknown") == std::string::npos);
        BOOST_TEST(seen.insert(cond.message()).second, "duplicate message: " << cond.message());
    }
}

BOOST_AUTO_TEST_SUITE_END()
