#include <edgeloop/http/error.hpp>
#include <edgeloop/http/response.hpp>
#include <edgeloop/tls/error.hpp>

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
         e <= static_cast<int>(http::error::unsupported_transfer_coding); ++e) {
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

BOOST_AUTO_TEST_SUITE_END()
