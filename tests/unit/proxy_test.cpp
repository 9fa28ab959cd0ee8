// Proxy selection (http::select_proxy) and the no_proxy matcher, on the cases of curl's unit test 1614
// (tests/unit/unit1614.c: Curl_check_noproxy, Curl_cidr4_match, Curl_cidr6_match).

#include <edgeloop/http/error.hpp>
#include <edgeloop/http/proxy.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <ostream>
#include <string>

namespace http = edgeloop::http;

namespace {

struct noproxy_case {
    const char* host;
    const char* list;
    bool match;
};

std::ostream& operator<<(std::ostream& os, const noproxy_case& c) {
    return os << c.host << " in '" << c.list << "' should " << (c.match ? "" : "not ") << "match";
}

// curl 1614's Curl_check_noproxy list.
const noproxy_case curl_1614[] = {
    {"www.example.com", "localhost,.example.com,.example.de", true},
    {"www.example.com.", "localhost,.example.com,.example.de", true},
    {"example.com", "localhost,.example.com,.example.de", true},
    {"example.com.", "localhost,.example.com,.example.de", true},
    {"www.example.com", "localhost,.example.com.,.example.de", true},
    {"www.example.com", "localhost,www.example.com.,.example.de", true},
    {"example.com", "localhost,example.com,.example.de", true},
    {"example.com.", "localhost,example.com,.example.de", true},
    // FALSE in the 7.86 version of 1614 (a regression there), TRUE again since curl 7.87 and in curl's
    // documentation ("local.com would match ... www.local.com"): domain suffixes with or without a dot.
    {"www.example.com", "localhost,example.com,.example.de", true},
    {"127.0.0.1", "127.0.0.1,localhost", true},
    {"127.0.0.1", "127.0.0.1,localhost,", true},
    {"127.0.0.1", "127.0.0.1/8,localhost,", true},
    {"127.0.0.1", "127.0.0.1/28,localhost,", true},
    {"127.0.0.1", "127.0.0.1/31,localhost,", true},
    {"127.0.0.1", "localhost,127.0.0.1", true},
    {"127.0.0.1",
     "localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1."
     "127.0."
     "0.1.127.0.0.1.127.0.0.1.127.0.0.",
     false},
    {"127.0.0.1",
     "localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1."
     "127.0."
     "0.1.127.0.0.1.127.0.0.1.127.0.0",
     false},
    {"localhost", "localhost,127.0.0.1", true},
    {"localhost", "127.0.0.1,localhost", true},
    {"foobar", "barfoo", false},
    {"foobar", "foobar", true},
    {"192.168.0.1", "foobar", false},
    {"192.168.0.1", "192.168.0.0/16", true},
    {"192.168.0.1", "192.168.0.0/24", true},
    {"192.168.0.1", "192.168.0.0/32", false},
    {"192.168.0.1", "192.168.0.0", false},
    {"192.168.1.1", "192.168.0.0/24", false},
    {"192.168.1.1", "foo, bar, 192.168.0.0/24", false},
    {"192.168.1.1", "foo, bar, 192.168.0.0/16", true},
    {"[::1]", "foo, bar, 192.168.0.0/16", false},
    {"[::1]", "foo, bar, ::1/64", true},
    {"bar", "foo, bar, ::1/64", true},
    {"BAr", "foo, bar, ::1/64", true},
    {"BAr", "foo,,,,,              bar, ::1/64", true},
    {"www.example.com", "foo, .example.com", true},
    {"www.example.com", "www2.example.com, .example.net", false},
    {"example.com", ".example.com, .example.net", true},
    {"nonexample.com", ".example.com, .example.net", false},
    // 1614's CIDR lists (Curl_cidr4_match / Curl_cidr6_match), as no_proxy entries "NET/BITS".
    {"192.160.0.1", "192.160.0.1/33", false},
    {"192.160.0.1", "192.160.0.1/32", true},
    {"192.160.0.1", "192.160.0.1/0", true}, // 0 bits: the whole address, as curl
    {"192.160.0.1", "192.160.0.1/24", true},
    {"192.160.0.1", "192.160.0.1/26", true},
    {"192.160.0.1", "192.160.0.1/20", true},
    {"192.160.0.1", "192.160.0.1/18", true},
    {"192.160.0.1", "192.160.0.1/12", true},
    {"192.160.0.1", "192.160.0.1/8", true},
    {"192.160.0.1", "10.0.0.1/8", false},
    {"192.160.0.1", "10.0.0.1/32", false},
    {"192.160.0.1", "10.0.0.1/0", false},
    {"::1", "::1/0", true},
    {"::1", "::1/128", true},
    {"::1", "0:0::1/128", true},
    {"::1", "0:0::1/129", false},
    {"fe80::ab47:4396:55c9:8474", "fe80::ab47:4396:55c9:8474/64", true},
    // "*" alone matches everything.
    {"anything.example", "*", true},
    {"10.1.2.3", "*", true},
};

} // namespace

BOOST_AUTO_TEST_SUITE(proxy_selection)

BOOST_DATA_TEST_CASE(no_proxy_matches_curl_1614_cases, boost::unit_test::data::make(curl_1614), c) {
    BOOST_TEST(http::no_proxy_matches(c.host, c.list) == c.match);
}

BOOST_AUTO_TEST_CASE(no_proxy_empty_list_and_empty_entries_match_nothing) {
    BOOST_TEST(!http::no_proxy_matches("example.com", ""));
    BOOST_TEST(!http::no_proxy_matches("example.com", ", ,."));
    BOOST_TEST(!http::no_proxy_matches("example.com", "*.example.com")); // "*" only alone
    BOOST_TEST(!http::no_proxy_matches("", "*"));
}

BOOST_AUTO_TEST_CASE(proxy_urls_parse_with_credentials_and_default_port) {
    auto p = http::parse_proxy_url("http://us%3Aer:p%40ss@Proxy.Example:3128");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->host == "proxy.example");
    BOOST_TEST(p->port == 3128);
    BOOST_TEST(p->user == "us:er");
    BOOST_TEST(p->password == "p@ss");
    BOOST_TEST(p->has_credentials);
    BOOST_TEST(p->display() == "http://proxy.example:3128"); // never the credentials
    auto bare = http::parse_proxy_url("10.0.0.1");
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST(bare->port == 1080);
    BOOST_TEST(!bare->has_credentials);
    auto v6 = http::parse_proxy_url("http://[::1]:8080/");
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->authority() == "[::1]:8080");
    for (const char* bad : {"ftp://proxy:21", "socks4://proxy:1080", "socks5h://", "http://", "http://p/x",
                            "http://p:0", "http://p?q"}) {
        BOOST_TEST_INFO(bad);
        BOOST_TEST(http::parse_proxy_url(bad).error() == make_error_code(http::error::invalid_proxy));
    }
}

BOOST_AUTO_TEST_CASE(https_proxy_urls_parse_with_port_443_by_default) {
    auto p = http::parse_proxy_url("HTTPS://u:p@Proxy.Example");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST((p->scheme == http::proxy_scheme::https));
    BOOST_TEST(p->is_tls());
    BOOST_TEST(!p->is_socks());
    BOOST_TEST(p->port == 443);
    BOOST_TEST(p->display() == "https://proxy.example:443");
    auto port = http::parse_proxy_url("https://127.0.0.1:8443");
    BOOST_TEST_REQUIRE(port.has_value());
    BOOST_TEST(port->port == 8443);
}

BOOST_AUTO_TEST_CASE(socks5_and_socks5h_urls_parse_and_show_their_scheme) {
    auto local = http::parse_proxy_url("socks5://u:p@Gw.Example");
    BOOST_TEST_REQUIRE(local.has_value());
    BOOST_TEST((local->scheme == http::proxy_scheme::socks5));
    BOOST_TEST(local->is_socks());
    BOOST_TEST(local->port == 1080);
    BOOST_TEST(local->user == "u");
    BOOST_TEST(local->display() == "socks5://gw.example:1080");
    auto remote = http::parse_proxy_url("SOCKS5H://[::1]:9050");
    BOOST_TEST_REQUIRE(remote.has_value());
    BOOST_TEST((remote->scheme == http::proxy_scheme::socks5h));
    BOOST_TEST(remote->display() == "socks5h://[::1]:9050");
    BOOST_TEST(!http::parse_proxy_url("proxy:3128")->is_socks());
}

namespace {

http::getenv_fn env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

std::string chosen(const http::proxy_options& o, bool https, const char* host, const http::getenv_fn& env) {
    const auto c = http::select_proxy(o, https, host, env);
    if (!c)
        return "error";
    return c->proxy ? c->proxy->authority() : "direct";
}

} // namespace

BOOST_AUTO_TEST_CASE(environment_is_read_only_when_asked) {
    const auto env = env_of({{"https_proxy", "http://p1:1"}, {"http_proxy", "http://p2:2"}});
    http::proxy_options o;
    BOOST_TEST(chosen(o, true, "h", env) == "direct");
    o.from_environment = true;
    BOOST_TEST(chosen(o, true, "h", env) == "p1:1");
    BOOST_TEST(chosen(o, false, "h", env) == "p2:2");
}

BOOST_AUTO_TEST_CASE(selection_order_is_curls) {
    http::proxy_options o;
    o.from_environment = true;
    // Options first.
    o.url = "http://opt:9";
    BOOST_TEST(chosen(o, true, "h", env_of({{"https_proxy", "http://env:1"}})) == "opt:9");
    o.url.clear();
    // https: https_proxy before HTTPS_PROXY before all_proxy before ALL_PROXY.
    BOOST_TEST(chosen(o, true, "h",
                      env_of({{"https_proxy", "a:1"}, {"HTTPS_PROXY", "b:2"}, {"all_proxy", "c:3"}})) ==
               "a:1");
    BOOST_TEST(chosen(o, true, "h", env_of({{"HTTPS_PROXY", "b:2"}, {"all_proxy", "c:3"}})) == "b:2");
    BOOST_TEST(chosen(o, true, "h", env_of({{"all_proxy", "c:3"}, {"ALL_PROXY", "d:4"}})) == "c:3");
    BOOST_TEST(chosen(o, true, "h", env_of({{"ALL_PROXY", "d:4"}})) == "d:4");
    // http: http_proxy in lower case only (HTTP_PROXY may come from a CGI request's Proxy: header).
    BOOST_TEST(chosen(o, false, "h", env_of({{"HTTP_PROXY", "x:1"}})) == "direct");
    BOOST_TEST(chosen(o, false, "h", env_of({{"HTTP_PROXY", "x:1"}, {"all_proxy", "c:3"}})) == "c:3");
    BOOST_TEST(chosen(o, false, "h", env_of({{"https_proxy", "a:1"}})) == "direct");
}

BOOST_AUTO_TEST_CASE(no_proxy_option_overrides_the_environment) {
    http::proxy_options o;
    o.from_environment = true;
    const auto env = env_of({{"https_proxy", "p:1"}, {"no_proxy", ".example.com"}, {"NO_PROXY", "other"}});
    BOOST_TEST(chosen(o, true, "a.example.com", env) == "direct");
    BOOST_TEST(chosen(o, true, "other", env) == "p:1"); // no_proxy before NO_PROXY
    BOOST_TEST(chosen(o, true, "other", env_of({{"https_proxy", "p:1"}, {"NO_PROXY", "other"}})) == "direct");
    o.no_proxy = ""; // set, even empty: the environment's list is not read
    BOOST_TEST(chosen(o, true, "a.example.com", env) == "p:1");
    o.no_proxy = "*";
    BOOST_TEST(chosen(o, true, "a.example.com", env) == "direct");
    const auto c = http::select_proxy(o, true, "a.example.com", env);
    BOOST_TEST(c->reason == "no proxy: a.example.com matches --noproxy");
}

BOOST_AUTO_TEST_CASE(credentials_option_replaces_the_urls_and_reason_has_none) {
    http::proxy_options o;
    o.url = "http://u:secret@p:3128";
    auto c = http::select_proxy(o, true, "h");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->proxy->user == "u");
    BOOST_TEST(c->reason.find("secret") == std::string::npos);
    BOOST_TEST(c->reason == "proxy http://p:3128 from -x/--proxy");
    o.credentials = "alice:pa:ss";
    c = http::select_proxy(o, true, "h");
    BOOST_TEST(c->proxy->user == "alice");
    BOOST_TEST(c->proxy->password == "pa:ss");
    o.url = "socks5h://p:1080"; // SOCKS5 username/password from the same option
    c = http::select_proxy(o, true, "h");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->proxy->user == "alice");
    BOOST_TEST(c->reason == "proxy socks5h://p:1080 from -x/--proxy");
    o.url = "ftp://p:21";
    BOOST_TEST(http::select_proxy(o, true, "h").error() == make_error_code(http::error::invalid_proxy));
}

BOOST_AUTO_TEST_SUITE_END()
