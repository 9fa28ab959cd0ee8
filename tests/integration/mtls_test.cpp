// Mutual TLS, ALPN and SNI against nginx, openssl s_server and the devserver.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

tls::options with_client_cert() {
    return {.ca_file = pki::path("ca.crt"),
            .cert_file = pki::path("client.crt"),
            .key_file = pki::path("client.key")};
}

} // namespace

BOOST_AUTO_TEST_SUITE(mtls)

BOOST_AUTO_TEST_CASE(nginx_accepts_the_right_client_certificate) {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(with_client_cert()));
    auto out =
        fetch(ioc, client, get("https://localhost:" + std::to_string(nginx.mtls_port()) + "/hello.txt"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
}

BOOST_AUTO_TEST_CASE(nginx_without_client_certificate_answers_400) {
    // nginx completes the handshake and refuses at the HTTP level (see docs/test-peers.md).
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    auto out =
        fetch(ioc, client, get("https://localhost:" + std::to_string(nginx.mtls_port()) + "/hello.txt"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 400u);
}

BOOST_AUTO_TEST_CASE(s_server_refuses_a_client_without_certificate_in_the_handshake) {
    openssl_server server({.require_client_cert = true});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/"));
    BOOST_TEST(out.ec == make_error_code(tls::error::client_certificate_rejected),
               http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(s_server_accepts_the_client_certificate) {
    openssl_server server({.require_client_cert = true});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(with_client_cert()));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(alpn_is_offered_and_negotiated) {
    openssl_server server({.alpn = {"x-amzn-http-ca"}});
    boost::asio::io_context ioc;
    auto opts = with_client_cert();
    opts.alpn = {"x-amzn-http-ca"};
    http::client client(ioc.get_executor(), tls::context(opts));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.alpn == "x-amzn-http-ca");
}

BOOST_AUTO_TEST_CASE(no_alpn_is_offered_unless_configured) {
    openssl_server server({.alpn = {"x-amzn-http-ca"}});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")}));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.alpn.empty());
}

BOOST_AUTO_TEST_CASE(server_demanding_an_alpn_protocol_we_lack_is_named) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor(), {.alpn = {"x-amzn-http-ca"}});
    http::client client(ioc.get_executor(),
                        tls::context({.ca_file = server.ca_file(), .alpn = {"http/1.1"}}));
    auto out = fetch(ioc, client, get(server.url("/200")));
    BOOST_TEST(out.ec == make_error_code(tls::error::alpn_not_negotiated), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(sni_is_sent_by_default) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/200"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(server.last_sni() == "localhost");
}

BOOST_AUTO_TEST_CASE(sni_override_is_sent) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(),
                        tls::context({.ca_file = server.ca_file(), .sni_name = "gateway.test"}));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/200"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(server.last_sni() == "gateway.test");
}

BOOST_AUTO_TEST_CASE(sni_is_not_sent_when_off) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file(), .sni = false}));
    auto out = fetch(ioc, client, get("https://localhost:" + std::to_string(server.port()) + "/200"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(server.last_sni().empty());
}

BOOST_AUTO_TEST_CASE(alpn_is_reported_on_a_reused_connection_too) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor(), {.alpn = {"x-amzn-http-ca"}});
    http::client client(ioc.get_executor(),
                        tls::context({.ca_file = server.ca_file(), .alpn = {"x-amzn-http-ca"}}));
    auto first = fetch(ioc, client, get(server.url("/200")));
    auto second = fetch(ioc, client, get(server.url("/200")));
    BOOST_TEST(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(second.info.reused_connection);
    BOOST_TEST(second.info.alpn == "x-amzn-http-ca");
}

BOOST_AUTO_TEST_SUITE_END()
