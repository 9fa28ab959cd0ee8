// What a failed transfer carries besides its code: the underlying error (transfer_info::cause) and the
// edgeloop::errc condition a caller asks about.
#include <edgeloop/core/errc.hpp>
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using edgeloop::errc;
using namespace edgeloop::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(error_cause)

BOOST_AUTO_TEST_CASE(a_name_that_does_not_exist_carries_the_resolvers_own_error) {
    asio::io_context ioc;
    http::client client(ioc.get_executor());
    auto out = fetch(ioc, client, get("http://nonexistent.invalid/"));
    BOOST_TEST((out.ec == http::error::resolve_failed), http::describe(out.ec, out.info));
    BOOST_TEST((out.ec == errc::name_resolution));
    // "No such name", told apart from "try again" (a DNS server that could not be reached) by the code,
    // not by the text. .invalid never resolves (RFC 6761); a machine without a resolver says try again.
    BOOST_TEST((out.info.cause.category() == asio::error::get_netdb_category()), out.info.cause.message());
    BOOST_TEST((out.info.cause == asio::error::host_not_found ||
                out.info.cause == asio::error::host_not_found_try_again),
               out.info.cause.message());
    // The detail is the resolver's own words (c-ares: "DNS: Domain name not found"), not a generic text.
    BOOST_TEST(out.info.detail.rfind("DNS: ", 0) == 0, out.info.detail);
    BOOST_TEST(out.info.detail.size() > 5u, out.info.detail);
}

BOOST_AUTO_TEST_CASE(an_untrusted_server_is_a_server_certificate_failure) {
    asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(),
                        tls::context({})); // the system store: the devserver's CA is not in it
    auto out = fetch(ioc, client, get(server.url("/200")));
    BOOST_TEST((out.ec == tls::error::untrusted_issuer), http::describe(out.ec, out.info));
    BOOST_TEST((out.ec == errc::server_certificate));
    BOOST_TEST((out.ec == errc::tls_handshake));
    BOOST_TEST((out.ec != errc::timeout));
    BOOST_TEST((out.info.cause.category() == asio::error::get_ssl_category()), out.info.cause.message());
}

BOOST_AUTO_TEST_CASE(a_server_that_does_not_answer_in_time_is_a_timeout) {
    asio::io_context ioc;
    edgeloop::devserver::server server(ioc.get_executor());
    http::client_options opts;
    opts.timeouts.response_head = 200ms;
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}), opts);
    auto out = fetch(ioc, client, get(server.url("/200?sleep=20000")));
    BOOST_TEST((out.ec == http::error::response_head_timeout), http::describe(out.ec, out.info));
    BOOST_TEST((out.ec == errc::timeout));
    BOOST_TEST((out.ec != errc::server_certificate));
    BOOST_TEST(!out.info.cause);
}

BOOST_AUTO_TEST_SUITE_END()
