// curl's --resolve and --connect-to syntax and matching, and the Happy Eyeballs address order (RFC 8305).
#include <edgeloop/net/name_overrides.hpp>

#include <edgeloop/net/address_order.hpp>

#include <boost/test/unit_test.hpp>

#include <stdexcept>

namespace net = edgeloop::net;
using boost::asio::ip::make_address;
using endpoint = boost::asio::ip::tcp::endpoint;

namespace {

std::string text(const net::name_overrides::route& r) {
    return std::string(r.host) + "|" + std::to_string(r.port);
}

std::string text(const std::vector<endpoint>& v) {
    std::string out;
    for (const auto& e : v)
        out += (out.empty() ? "" : " ") + e.address().to_string();
    return out;
}

endpoint ep(const char* a) {
    return {make_address(a), 443};
}

} // namespace

BOOST_AUTO_TEST_SUITE(name_overrides_rules)

BOOST_AUTO_TEST_CASE(resolve_gives_the_addresses_of_one_name_and_port) {
    net::name_overrides n({}, {"example.com:443:127.0.0.1,[::1],127.0.0.2", "+other.example:80:::1"});
    const auto* a = n.resolve("example.com", 443);
    BOOST_TEST_REQUIRE(a != nullptr);
    BOOST_TEST_REQUIRE(a->size() == 3u);
    BOOST_TEST((*a)[0] == make_address("127.0.0.1"));
    BOOST_TEST((*a)[1] == make_address("::1"));
    BOOST_TEST((*a)[2] == make_address("127.0.0.2"));
    BOOST_TEST(n.resolve("EXAMPLE.com.", 443) != nullptr); // case and a trailing dot ignored
    BOOST_TEST(n.resolve("example.com", 80) == nullptr);   // another port: DNS
    BOOST_TEST(n.resolve("www.example.com", 443) == nullptr);
    BOOST_TEST_REQUIRE(n.resolve("other.example", 80) != nullptr);
    BOOST_TEST(n.resolve("other.example", 80)->front() == make_address("::1"));
}

BOOST_AUTO_TEST_CASE(resolve_wildcard_matches_any_name_on_its_port) {
    net::name_overrides n({}, {"*:443:127.0.0.3"});
    BOOST_TEST(n.resolve("anything.example", 443) != nullptr);
    BOOST_TEST(n.resolve("anything.example", 8443) == nullptr);
}

BOOST_AUTO_TEST_CASE(connect_to_routes_a_host_and_port_elsewhere) {
    net::name_overrides n({"example.com:443:backend.example:8443", ":80:127.0.0.1:", "[::1]:8080:[::1]:9090"},
                          {});
    BOOST_TEST(text(n.connect_to("example.com", 443)) == "backend.example|8443");
    BOOST_TEST(text(n.connect_to("Example.COM.", 443)) == "backend.example|8443");
    BOOST_TEST(text(n.connect_to("example.com", 80)) == "127.0.0.1|80"); // any host, port kept
    BOOST_TEST(text(n.connect_to("other.example", 80)) == "127.0.0.1|80");
    BOOST_TEST(text(n.connect_to("::1", 8080)) == "::1|9090");
    BOOST_TEST(text(n.connect_to("other.example", 443)) == "other.example|443"); // no entry: unchanged
}

BOOST_AUTO_TEST_CASE(connect_to_first_matching_entry_wins_and_empty_target_keeps_the_host) {
    net::name_overrides n({"a.example::127.0.0.1:1", "a.example:443::2"}, {});
    BOOST_TEST(text(n.connect_to("a.example", 443)) == "127.0.0.1|1");
    net::name_overrides keep({"a.example:443::8443"}, {});
    BOOST_TEST(text(keep.connect_to("a.example", 443)) == "a.example|8443");
}

BOOST_AUTO_TEST_CASE(malformed_entries_are_refused_and_named) {
    const std::vector<std::string> bad_resolve = {"",
                                                  "example.com",
                                                  "example.com:443",
                                                  "example.com:443:",
                                                  "example.com:443:not-an-ip",
                                                  "example.com:0:127.0.0.1",
                                                  "example.com:65536:127.0.0.1",
                                                  "example.com:x:127.0.0.1",
                                                  ":443:127.0.0.1",
                                                  "-example.com:443",
                                                  "example.com:443:127.0.0.1,",
                                                  "[::1:443:127.0.0.1"};
    for (const auto& e : bad_resolve) {
        BOOST_CHECK_THROW(net::name_overrides({}, {e}), std::invalid_argument);
        try {
            net::name_overrides({}, {e});
        } catch (const std::invalid_argument& ex) {
            BOOST_TEST(std::string(ex.what()).find("--resolve '" + e + "'") == 0u, ex.what());
        }
    }
    for (const std::string e : {"", "a:1", "a:1:b", "a:1:b:2:c", "a:x:b:2", "a:1:b:70000", "[::1:1:b:2"}) {
        BOOST_CHECK_THROW(net::name_overrides({e}, {}), std::invalid_argument);
    }
}

BOOST_AUTO_TEST_CASE(happy_eyeballs_order_interleaves_starting_with_the_first_family) {
    std::vector<endpoint> v{ep("::1"), ep("::2"), ep("::3"), ep("127.0.0.1"), ep("127.0.0.2")};
    net::happy_eyeballs_order(v, net::ip_family::any);
    BOOST_TEST(text(v) == "::1 127.0.0.1 ::2 127.0.0.2 ::3");
    std::vector<endpoint> w{ep("127.0.0.1"), ep("127.0.0.2"), ep("::1")};
    net::happy_eyeballs_order(w, net::ip_family::any);
    BOOST_TEST(text(w) == "127.0.0.1 ::1 127.0.0.2");
}

BOOST_AUTO_TEST_CASE(happy_eyeballs_order_keeps_one_family_and_drops_duplicates) {
    std::vector<endpoint> v{ep("::1"), ep("127.0.0.1"), ep("127.0.0.1"), ep("::2"), ep("127.0.0.2")};
    auto only4 = v;
    net::happy_eyeballs_order(only4, net::ip_family::v4);
    BOOST_TEST(text(only4) == "127.0.0.1 127.0.0.2");
    auto only6 = v;
    net::happy_eyeballs_order(only6, net::ip_family::v6);
    BOOST_TEST(text(only6) == "::1 ::2");
    std::vector<endpoint> none{ep("127.0.0.1")};
    net::happy_eyeballs_order(none, net::ip_family::v6);
    BOOST_TEST(none.empty());
}

BOOST_AUTO_TEST_SUITE_END()
