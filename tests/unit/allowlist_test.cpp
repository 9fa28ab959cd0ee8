#include <edgeloop/net/allowlist.hpp>

#include <boost/test/unit_test.hpp>

#include <stdexcept>

using edgeloop::net::allowlist;

BOOST_AUTO_TEST_SUITE(allowlist_rules)

BOOST_AUTO_TEST_CASE(empty_list_allows_everything) {
    allowlist a;
    BOOST_TEST(a.empty());
    BOOST_TEST(a.allows("anything.example"));
}

BOOST_AUTO_TEST_CASE(exact_names_ignore_case_and_a_trailing_dot) {
    allowlist a({"httpstat.us"});
    BOOST_TEST(a.allows("httpstat.us"));
    BOOST_TEST(a.allows("HTTPSTAT.US"));
    BOOST_TEST(a.allows("httpstat.us."));
    BOOST_TEST(!a.allows("evil-httpstat.us"));
    BOOST_TEST(!a.allows("httpstat.us.evil.com"));
    BOOST_TEST(!a.allows("sub.httpstat.us"));
}

BOOST_AUTO_TEST_CASE(wildcard_matches_subdomains_only) {
    allowlist a({"*.example.com"});
    BOOST_TEST(a.allows("a.example.com"));
    BOOST_TEST(a.allows("a.b.example.com"));
    BOOST_TEST(!a.allows("example.com"));
    BOOST_TEST(!a.allows("badexample.com"));
}

BOOST_AUTO_TEST_CASE(ip_entries_match_only_the_same_address) {
    allowlist a({"127.0.0.1", "[::1]"});
    BOOST_TEST(a.allows("127.0.0.1"));
    BOOST_TEST(a.allows("::1"));
    BOOST_TEST(a.allows("0:0:0:0:0:0:0:1"));
    BOOST_TEST(!a.allows("127.0.0.2"));
    BOOST_TEST(!a.allows("localhost"));
}

BOOST_AUTO_TEST_CASE(ip_literal_tricks_do_not_match_names) {
    allowlist a({"localhost", "*.example.com"});
    BOOST_TEST(!a.allows("127.0.0.1"));
    BOOST_TEST(!a.allows("127.1"));
    BOOST_TEST(!a.allows("::1"));
}

BOOST_AUTO_TEST_CASE(malformed_entries_are_refused) {
    BOOST_CHECK_THROW(allowlist({""}), std::invalid_argument);
    BOOST_CHECK_THROW(allowlist({"*"}), std::invalid_argument);
    BOOST_CHECK_THROW(allowlist({"*."}), std::invalid_argument);
    BOOST_CHECK_THROW(allowlist({"a.*.com"}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
