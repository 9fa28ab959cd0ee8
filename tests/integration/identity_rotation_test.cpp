// Rotation of the client identity at run time (http::client::set_identity, issue 14): against the
// devserver requiring a client certificate of its own CA or the test PKI's, which tells each publish's
// client certificate CN (received_publish::client_cn).
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/tls/identity.hpp>

#include <support/fetch.hpp>
#include <support/servers.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

const std::string devserver_cn = "edgeloop devserver client";
const std::string pki_cn = "edgeloop-test-client";

/// The devserver (on the test's io_context) recording the client CN of every publish; `on_publish`
/// runs on the loop at each one, before it is answered.
struct rotation_server {
    boost::asio::io_context ioc;
    std::vector<std::string> cns;
    std::function<void()> on_publish;
    edgeloop::devserver::server dev;
    std::string cert_pem, key_pem; ///< the devserver's own client identity (CN devserver_cn)

    rotation_server()
        : dev(ioc.get_executor(), make_options()) {
        std::tie(cert_pem, key_pem) = dev.issue_client_certificate_pem();
    }
    edgeloop::devserver::options make_options() {
        edgeloop::devserver::options o{.require_client_certificate = true,
                                       .client_ca_file = pki::path("ca.crt")};
        o.publish_hook = [this](const edgeloop::devserver::received_publish& p) -> unsigned {
            cns.push_back(p.client_cn);
            if (on_publish)
                std::exchange(on_publish, nullptr)();
            return 0;
        };
        return o;
    }
    tls::identity devserver_identity() const { return tls::identity::pem(cert_pem, key_pem); }
    static tls::identity pki_identity() {
        return tls::identity::files(pki::path("client.crt"), pki::path("client.key"));
    }
    http::request publish(const std::string& query = {}) const {
        http::request r;
        r.method = "POST";
        r.url = dev.url("/topics/rotation" + query);
        r.body = "{}";
        return r;
    }
    tls::options tls_options(tls::identity id) const {
        return {.ca_file = dev.ca_file(), .client_identity = std::move(id)};
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(identity_rotation)

BOOST_AUTO_TEST_CASE(idle_connections_of_the_old_identity_are_closed) {
    rotation_server s;
    http::client client(s.ioc.get_executor(), tls::context(s.tls_options(s.devserver_identity())));
    auto first = fetch(s.ioc, client, s.publish());
    BOOST_TEST_REQUIRE(!first.ec, http::describe(first.ec, first.info));
    BOOST_TEST(client.idle_connections() == 1u);
    BOOST_TEST(client.identity_generation() == 0u);
    client.set_identity(rotation_server::pki_identity());
    BOOST_TEST(client.identity_generation() == 1u);
    BOOST_TEST(client.idle_connections() == 0u);
    BOOST_TEST(client.cached_tls_sessions() == 0u);
    auto second = fetch(s.ioc, client, s.publish());
    BOOST_TEST_REQUIRE(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(second.info.status == 200u);
    BOOST_TEST(!second.info.reused_connection);
    BOOST_TEST(!second.info.tls_resumed);
    BOOST_TEST(s.cns == (std::vector<std::string>{devserver_cn, pki_cn}), boost::test_tools::per_element());
    // The new identity's context is the one exposed, with its certificate's CN and expiry.
    BOOST_TEST_REQUIRE(client.tls_context() != nullptr);
    BOOST_TEST(client.tls_context()->client_certificate_cn() == pki_cn);
    BOOST_TEST(client.tls_context()->client_certificate_expiry().has_value());
}

BOOST_AUTO_TEST_CASE(in_flight_transfer_finishes_on_its_identity_sessions_stay_per_identity) {
    rotation_server s;
    http::client client(s.ioc.get_executor(), tls::context(s.tls_options(s.devserver_identity())));
    // Rotated while the first publish is at the server: its answer (and the TLS 1.3 tickets, read with
    // it) still come on the old identity's connection.
    s.on_publish = [&] { client.set_identity(rotation_server::pki_identity()); };
    auto first = fetch(s.ioc, client, s.publish("?sleep=50"));
    BOOST_TEST_REQUIRE(!first.ec, http::describe(first.ec, first.info));
    BOOST_TEST(first.info.status == 200u);
    BOOST_TEST(client.identity_generation() == 1u);
    // Not pooled: it presents the old identity.
    BOOST_TEST(client.idle_connections() == 0u);
    BOOST_TEST(client.open_connections() == 0u);
    // A session of the old identity is never resumed with the new one (the server would take the
    // connection for the old certificate's).
    auto second = fetch(s.ioc, client, s.publish());
    BOOST_TEST_REQUIRE(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(!second.info.reused_connection);
    BOOST_TEST(!second.info.tls_resumed);
    // The new identity's own sessions are resumed as usual.
    client.cancel_all(); // closes the idle connection
    auto third = fetch(s.ioc, client, s.publish());
    BOOST_TEST_REQUIRE(!third.ec, http::describe(third.ec, third.info));
    BOOST_TEST(third.info.tls_resumed);
    BOOST_TEST(s.cns == (std::vector<std::string>{devserver_cn, pki_cn, pki_cn}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failed_load_keeps_the_identity) {
    rotation_server s;
    http::client client(s.ioc.get_executor(), tls::context(s.tls_options(s.devserver_identity())));
    auto first = fetch(s.ioc, client, s.publish());
    BOOST_TEST_REQUIRE(!first.ec, http::describe(first.ec, first.info));
    const std::string missing = pki::path("no-such-client.crt");
    try {
        client.set_identity(tls::identity::files(missing, pki::path("client.key")));
        BOOST_FAIL("a missing certificate file was accepted");
    } catch (const tls::config_error& e) {
        BOOST_TEST(e.code() == make_error_code(tls::error::file_not_found), e.what());
        BOOST_TEST(std::string(e.what()).find("no-such-client.crt") != std::string::npos, e.what());
    }
    // A certificate that does not match the key fails too.
    BOOST_CHECK_THROW(
        client.set_identity(tls::identity::files(pki::path("client.crt"), pki::path("server.key"))),
        tls::config_error);
    BOOST_TEST(client.identity_generation() == 0u);
    BOOST_TEST(client.idle_connections() == 1u);
    BOOST_TEST(client.tls_context()->client_certificate_cn() == devserver_cn);
    auto second = fetch(s.ioc, client, s.publish());
    BOOST_TEST_REQUIRE(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(second.info.reused_connection);
    BOOST_TEST(s.cns == (std::vector<std::string>{devserver_cn, devserver_cn}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(set_identity_in_a_coroutine_with_braced_temporaries) {
    // set_identity is synchronous: nothing to co_await, and a braced argument (GCC 12 destroys a braced
    // temporary inside a co_await expression twice) is an ordinary full expression. {} removes the
    // identity: the server then refuses the client.
    rotation_server s;
    http::client client(s.ioc.get_executor(), tls::context(s.tls_options(s.devserver_identity())));
    boost::system::error_code first_ec, second_ec;
    unsigned first_status = 0;
    boost::asio::co_spawn(
        s.ioc,
        [&]() -> boost::asio::awaitable<void> {
            client.set_identity(tls::identity::files(pki::path("client.crt"), pki::path("client.key")));
            auto [ec1, info1] = co_await client.async_fetch(
                s.publish(), {}, boost::asio::as_tuple(boost::asio::use_awaitable));
            first_ec = ec1;
            first_status = info1.status;
            client.set_identity({});
            auto [ec2, info2] = co_await client.async_fetch(
                s.publish(), {}, boost::asio::as_tuple(boost::asio::use_awaitable));
            second_ec = ec2;
        },
        boost::asio::detached);
    s.ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST(!first_ec, first_ec.message());
    BOOST_TEST(first_status == 200u);
    BOOST_TEST(second_ec == make_error_code(tls::error::client_certificate_rejected), second_ec.message());
    BOOST_TEST(s.cns == std::vector<std::string>{pki_cn}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_client_without_tls_cannot_rotate) {
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor());
    BOOST_CHECK_THROW(client.set_identity(rotation_server::pki_identity()), std::logic_error);
    BOOST_TEST(client.tls_context() == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
