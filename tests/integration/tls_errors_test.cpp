// Each bad server certificate fails the handshake with its own named error (openssl s_server as peer).
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

fetch_outcome fetch_from(const std::string& cert, const std::string& host = "localhost",
                         tls::options opts = {.ca_file = pki::path("ca.crt")}) {
    openssl_server server({.cert = cert});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(std::move(opts)));
    return fetch(ioc, client, get("https://" + host + ":" + std::to_string(server.port()) + "/"));
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_errors)

BOOST_AUTO_TEST_CASE(good_certificate_is_accepted) {
    auto out = fetch_from("server");
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(expired_certificate) {
    auto out = fetch_from("expired");
    BOOST_TEST(out.ec == make_error_code(tls::error::certificate_expired), http::describe(out.ec, out.info));
    BOOST_TEST(http::describe(out.ec, out.info).find("localhost:") == 0u);
}

BOOST_AUTO_TEST_CASE(not_yet_valid_certificate) {
    auto out = fetch_from("notyet");
    BOOST_TEST(out.ec == make_error_code(tls::error::certificate_not_yet_valid),
               http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(untrusted_issuer) {
    auto out = fetch_from("untrusted");
    BOOST_TEST(out.ec == make_error_code(tls::error::untrusted_issuer), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(self_signed_certificate) {
    auto out = fetch_from("selfsigned");
    BOOST_TEST(out.ec == make_error_code(tls::error::self_signed_certificate),
               http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(host_name_mismatch) {
    auto out = fetch_from("wronghost");
    BOOST_TEST(out.ec == make_error_code(tls::error::host_name_mismatch), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(ip_address_mismatch_is_a_host_name_mismatch) {
    auto out = fetch_from("wronghost", "127.0.0.1");
    BOOST_TEST(out.ec == make_error_code(tls::error::host_name_mismatch), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(certificate_without_subject_alt_name_is_refused_whatever_its_common_name) {
    // RFC 9525 6.3: a client never falls back to the Common Name (here CN=localhost, no SAN).
    auto out = fetch_from("nosan");
    BOOST_TEST(out.ec == make_error_code(tls::error::host_name_mismatch), http::describe(out.ec, out.info));
    BOOST_TEST(out.info.detail.find("no subjectAltName") != std::string::npos, out.info.detail);
}

BOOST_AUTO_TEST_CASE(insecure_switch_accepts_an_expired_certificate) {
    auto out = fetch_from("expired", "localhost", {.insecure = true});
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(host_check_off_accepts_a_wrong_host_but_still_verifies_the_chain) {
    auto out = fetch_from("wronghost", "localhost", {.ca_file = pki::path("ca.crt"), .verify_host = false});
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    auto bad = fetch_from("untrusted", "localhost", {.ca_file = pki::path("ca.crt"), .verify_host = false});
    BOOST_TEST(bad.ec == make_error_code(tls::error::untrusted_issuer));
}

BOOST_AUTO_TEST_CASE(server_offering_only_tls_1_1_is_refused) {
    openssl_server server({.cert = "server", .extra_args = {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/"));
    BOOST_TEST(out.ec == make_error_code(tls::error::protocol_version_rejected),
               http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_SUITE_END()
