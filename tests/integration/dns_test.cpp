// DNS that never stalls: c-ares on the event loop, against a DNS server of the test's own on 127.0.0.1
// (tests/support/dns_server.hpp) that never answers one name while it answers others. And the DNS cache,
// /etc/hosts, and a changed resolver configuration.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/net/resolver.hpp>

#include <support/dns_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <unistd.h>

namespace http = edgeloop::http;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

struct dns_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor(), {.tls = false}};
    std::string port = std::to_string(server.port());
    dns_server dns{ioc, {{"good.test", {"127.0.0.1"}}, {"other.test", {"127.0.0.1"}}}, {"stall.test"}};

    http::client make_client(http::client_options o = {}) {
        o.connect.dns_servers = {dns.address()};
        return http::client(ioc.get_executor(), o);
    }
    std::string url(const char* host) const { return std::string("http://") + host + ":" + port + "/200"; }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(dns, dns_fixture)

BOOST_AUTO_TEST_CASE(a_stalled_lookup_times_out_while_another_name_resolves) {
    http::client_options o;
    o.timeouts.resolve = 1500ms;
    auto client = make_client(o);
    fetch_outcome stalled, good;
    client.async_fetch(get(url("stall.test")), detail::recording_handlers(stalled),
                       detail::recording_completion(stalled));
    client.async_fetch(get(url("good.test")), detail::recording_handlers(good),
                       detail::recording_completion(good));
    BOOST_TEST_REQUIRE(run_until(
        ioc, [&] { return stalled.done && good.done; }, 20s));
    BOOST_TEST(!good.ec, http::describe(good.ec, good.info));
    BOOST_TEST(good.info.status == 200u);
    BOOST_TEST(stalled.ec == make_error_code(http::error::resolve_timeout),
               http::describe(stalled.ec, stalled.info));
    BOOST_TEST(dns.queries("stall.test") >= 1u); // it was asked, and never answered
}

BOOST_AUTO_TEST_CASE(an_unknown_name_is_resolve_failed) {
    auto client = make_client();
    auto out = fetch(ioc, client, get(url("nowhere.test")));
    const auto said = http::describe(out.ec, out.info);
    BOOST_TEST(out.ec == make_error_code(http::error::resolve_failed), said);
    BOOST_TEST(said.find("nowhere.test") != std::string::npos, said);
}

BOOST_AUTO_TEST_CASE(the_second_transfer_to_a_name_asks_no_dns) {
    http::client_options o;
    o.pool.keep_alive = false; // a new connection (and a resolve phase) per transfer
    auto client = make_client(o);
    BOOST_TEST(fetch(ioc, client, get(url("good.test"))).info.status == 200u);
    const auto asked = dns.queries("good.test");
    BOOST_TEST(asked >= 1u);
    auto again = fetch(ioc, client, get(url("good.test")));
    BOOST_TEST(again.info.status == 200u, http::describe(again.ec, again.info));
    BOOST_TEST(again.info.connects == 1u); // a connection of its own
    BOOST_TEST(dns.queries("good.test") == asked);
}

BOOST_AUTO_TEST_CASE(without_the_cache_every_new_connection_asks_dns) {
    http::client_options o;
    o.pool.keep_alive = false;
    o.connect.dns_cache_ttl = 0s;
    auto client = make_client(o);
    BOOST_TEST(fetch(ioc, client, get(url("good.test"))).info.status == 200u);
    const auto asked = dns.queries("good.test");
    BOOST_TEST(fetch(ioc, client, get(url("good.test"))).info.status == 200u);
    BOOST_TEST(dns.queries("good.test") > asked);
}

BOOST_AUTO_TEST_CASE(localhost_comes_from_etc_hosts_without_asking_dns) {
    auto client = make_client();
    auto out = fetch(ioc, client, get(url("localhost")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(dns.queries("localhost") == 0u);
}

BOOST_AUTO_TEST_CASE(a_malformed_dns_server_makes_the_client_constructor_throw) {
    http::client_options o;
    o.connect.dns_servers = {"not an address"};
    BOOST_CHECK_THROW(http::client(ioc.get_executor(), o), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dns_configuration)

BOOST_AUTO_TEST_CASE(a_changed_resolv_conf_is_read_before_the_next_lookup) {
    net::io_context ioc;
    // resolv.conf names servers without a port: two servers of the test's own on port 53 of two
    // loopback addresses (binding port 53 needs root or CAP_NET_BIND_SERVICE).
    std::optional<dns_server> first, second;
    try {
        first.emplace(ioc, std::map<std::string, std::vector<std::string>>{{"moved.test", {"127.0.0.1"}}},
                      std::set<std::string>{}, 300, "127.0.0.2", 53);
        second.emplace(ioc, std::map<std::string, std::vector<std::string>>{{"moved.test", {"127.0.0.1"}}},
                       std::set<std::string>{}, 300, "127.0.0.3", 53);
    } catch (const boost::system::system_error& e) {
        BOOST_TEST_MESSAGE("not run: cannot listen on port 53 (" << e.what() << ")");
        return;
    }
    const auto conf =
        std::filesystem::temp_directory_path() / ("edgeloop-resolv-" + std::to_string(::getpid()));
    std::ofstream(conf) << "nameserver 127.0.0.2\n";
    edgeloop::net::resolver r(ioc.get_executor(),
                              {.cache_ttl = std::chrono::seconds(0), .resolv_conf = conf.string()});
    const auto lookup = [&] {
        boost::system::error_code ec = boost::asio::error::would_block;
        edgeloop::net::resolve_answer answer;
        r.async_resolve("moved.test", [&](boost::system::error_code e, edgeloop::net::resolve_answer a) {
            ec = e;
            answer = std::move(a);
        });
        BOOST_TEST_REQUIRE(run_until(
            ioc, [&] { return ec != boost::asio::error::would_block; }, 10000ms));
        BOOST_TEST(!ec, answer.detail);
        return answer;
    };
    BOOST_TEST(lookup().addresses.size() == 1u);
    BOOST_TEST(first->queries("moved.test") >= 1u);
    BOOST_TEST(second->queries("moved.test") == 0u);
    // Another size too: two writes within one tick of the coarse file clock have the same mtime.
    std::ofstream(conf) << "nameserver 127.0.0.3\n# the link changed\n";
    BOOST_TEST(lookup().addresses.size() == 1u);
    BOOST_TEST(second->queries("moved.test") >= 1u);
    BOOST_TEST(r.reloads() == 1u);
    std::filesystem::remove(conf);
}

BOOST_AUTO_TEST_SUITE_END()
