// Addresses and names on loopback only (127.0.0.0/8 and ::1): Happy Eyeballs (RFC 8305) against an address
// whose SYNs go unanswered (a listening socket with a full backlog that never accepts: the kernel drops
// further SYNs), -4/-6, and curl's --resolve / --connect-to (TLS stays on the URL's host, the allowlist
// judges the URL's host).
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>

#include <boost/test/unit_test.hpp>

#include <stdexcept>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// A plain-http devserver on 127.0.0.1:P and a blackholed listener on 127.0.0.2:P (same port: one
/// --resolve entry gives a name both addresses).
struct race_fixture {
    net::io_context ioc;
    edgeloop::devserver::server good{ioc.get_executor(), {.tls = false}};
    std::uint16_t port = good.port();
    fault_server blackhole{ioc, {fault::serve_ok()}, {.address = "127.0.0.2", .port = port, .accept = false}};
    std::string url = "http://he.test:" + std::to_string(port) + "/200";

    http::client make_client(http::connect_options c, http::timeouts t) {
        http::client_options o;
        o.timeouts = t;
        o.connect = std::move(c);
        return http::client(ioc.get_executor(), o);
    }
    std::string resolve(const std::string& addresses) const {
        return "he.test:" + std::to_string(port) + ":" + addresses;
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(happy_eyeballs, race_fixture)

BOOST_AUTO_TEST_CASE(a_blackholed_first_address_loses_the_race_to_the_next) {
    // The blackholed address's own deadline (half of 6 s) is beyond the transfer's 2 s: only the race,
    // starting the next address 200 ms later while the first still waits, makes it in time.
    auto client = make_client({.resolve = {resolve("127.0.0.2,127.0.0.1")}}, {.connect = 6s, .total = 2s});
    auto out = fetch(ioc, client, get(url));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.info.remote_ip == "127.0.0.1");
    BOOST_TEST(out.info.connects == 1u);
}

BOOST_AUTO_TEST_CASE(without_the_race_a_blackholed_first_address_holds_the_transfer) {
    auto client = make_client({.resolve = {resolve("127.0.0.2,127.0.0.1")}, .happy_eyeballs_delay = 0ms},
                              {.connect = 6s, .total = 2s});
    auto out = fetch(ioc, client, get(url));
    BOOST_TEST(out.ec == make_error_code(http::error::total_timeout), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(each_address_has_its_own_connect_deadline) {
    // One address at a time: the blackholed one gets half the connect budget, the last one the rest.
    auto client = make_client({.resolve = {resolve("127.0.0.2,127.0.0.1")}, .happy_eyeballs_delay = 0ms},
                              {.connect = 2s});
    auto out = fetch(ioc, client, get(url));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.remote_ip == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(every_address_blackholed_fails_with_connect_timeout_naming_each) {
    fault_server second{ioc, {fault::serve_ok()}, {.address = "127.0.0.3", .port = port, .accept = false}};
    auto client = make_client({.resolve = {resolve("127.0.0.2,127.0.0.3")}, .happy_eyeballs_delay = 100ms},
                              {.connect = 1s});
    auto out = fetch(ioc, client, get(url));
    const auto said = http::describe(out.ec, out.info);
    BOOST_TEST(out.ec == make_error_code(http::error::connect_timeout), said);
    BOOST_TEST(said.find("127.0.0.2:" + std::to_string(port)) != std::string::npos, said);
    BOOST_TEST(said.find("127.0.0.3:" + std::to_string(port)) != std::string::npos, said);
}

BOOST_AUTO_TEST_CASE(every_address_refused_is_connection_refused_naming_each) {
    const auto closed = free_port();
    auto client =
        make_client({.resolve = {"he.test:" + std::to_string(closed) + ":127.0.0.2,127.0.0.3"}}, {});
    auto out = fetch(ioc, client, get("http://he.test:" + std::to_string(closed) + "/"));
    const auto said = http::describe(out.ec, out.info);
    BOOST_TEST(out.ec == make_error_code(http::error::connection_refused), said);
    BOOST_TEST(said.find("127.0.0.2:" + std::to_string(closed)) != std::string::npos, said);
    BOOST_TEST(said.find("127.0.0.3:" + std::to_string(closed)) != std::string::npos, said);
}

BOOST_AUTO_TEST_CASE(ipv4_only_never_tries_the_ipv6_addresses) {
    fault_server v6{ioc, {fault::serve_ok()}, {.address = "::1", .port = port, .accept = false}};
    // IPv6 first, and a delay the transfer would not survive: only -4 makes it.
    auto client = make_client({.resolve = {resolve("::1,127.0.0.1")},
                               .family = edgeloop::net::ip_family::v4,
                               .happy_eyeballs_delay = 10s},
                              {.connect = 6s, .total = 2s});
    auto out = fetch(ioc, client, get(url));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.remote_ip == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(ipv6_only_never_tries_the_ipv4_addresses) {
    fault_server v6{ioc, {fault::serve_ok()}, {.address = "::1", .port = port, .accept = false}};
    auto client = make_client({.resolve = {resolve("127.0.0.1,::1")}, .family = edgeloop::net::ip_family::v6},
                              {.connect = 1s});
    auto out = fetch(ioc, client, get(url));
    const auto said = http::describe(out.ec, out.info);
    BOOST_TEST(out.ec == make_error_code(http::error::connect_timeout), said);
    auto none = make_client({.resolve = {resolve("127.0.0.1")}, .family = edgeloop::net::ip_family::v6}, {});
    out = fetch(ioc, none, get(url));
    BOOST_TEST(out.ec == make_error_code(http::error::resolve_failed), http::describe(out.ec, out.info));
    BOOST_TEST(http::describe(out.ec, out.info).find("no IPv6 address for he.test") != std::string::npos,
               http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// A TLS devserver on 127.0.0.3 (its certificate names localhost, 127.0.0.1 and ::1 only).
struct names_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor(), {.address = "127.0.0.3"}};
    std::string port = std::to_string(server.port());

    http::client make_client(http::client_options o) {
        return http::client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}), o);
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(name_overrides, names_fixture)

BOOST_AUTO_TEST_CASE(resolve_connects_a_name_to_the_given_address_with_tls_on_the_name) {
    const std::string url = "https://localhost:" + port + "/200";
    http::client_options o;
    o.connect.resolve = {"localhost:" + port + ":127.0.0.3"};
    auto client = make_client(o);
    auto out = fetch(ioc, client, get(url));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.info.remote_ip == "127.0.0.3");
    // Without it, localhost is 127.0.0.1 (or ::1), where nothing listens on that port.
    auto plain = make_client({});
    out = fetch(ioc, plain, get(url));
    BOOST_TEST(out.ec == make_error_code(http::error::connection_refused), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(connect_to_keeps_sni_and_verification_on_the_url_host) {
    const auto unused = std::to_string(free_port());
    http::client_options o;
    o.connect.connect_to = {"localhost:" + unused + ":127.0.0.3:" + port,
                            "other.example:" + unused + ":127.0.0.3:" + port};
    auto client = make_client(o);
    auto out = fetch(ioc, client, get("https://localhost:" + unused + "/200"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.remote_ip == "127.0.0.3");
    BOOST_TEST(out.info.remote_port == server.port());
    // The certificate is good for the address connected to (127.0.0.3 is not in it either way) and for
    // localhost, but the name checked is the URL's: other.example.
    out = fetch(ioc, client, get("https://other.example:" + unused + "/200"));
    BOOST_TEST(out.ec == make_error_code(tls::error::host_name_mismatch), http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(the_allowlist_judges_the_url_host_not_where_it_connects) {
    const auto unused = std::to_string(free_port());
    http::client_options o;
    o.connect.connect_to = {"localhost:" + unused + ":127.0.0.3:" + port};
    o.allowed_hosts = {"127.0.0.3"};
    auto refused = make_client(o);
    auto out = fetch(ioc, refused, get("https://localhost:" + unused + "/200"));
    BOOST_TEST(out.ec == make_error_code(http::error::host_not_allowed), http::describe(out.ec, out.info));
    o.allowed_hosts = {"localhost"};
    auto allowed = make_client(o);
    out = fetch(ioc, allowed, get("https://localhost:" + unused + "/200"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(malformed_entries_make_the_client_constructor_throw) {
    http::client_options o;
    o.connect.resolve = {"localhost:443"};
    BOOST_CHECK_THROW(make_client(o), std::invalid_argument);
    o.connect.resolve.clear();
    o.connect.connect_to = {"a:1:b"};
    BOOST_CHECK_THROW(make_client(o), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
