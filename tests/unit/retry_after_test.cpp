#include <edgeloop/retry/retry_after.hpp>

#include <edgeloop/retry/error.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace retry = edgeloop::retry;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// Sun, 06 Nov 1994 08:49:00 GMT
const system_clock::time_point rfc_now = sys_days(year(1994) / November / 6) + 8h + 49min;

} // namespace

BOOST_AUTO_TEST_SUITE(retry_after)

BOOST_AUTO_TEST_CASE(delta_seconds) {
    BOOST_TEST(retry::parse_retry_after("120")->count() == 120);
    BOOST_TEST(retry::parse_retry_after("0")->count() == 0);
    BOOST_TEST(retry::parse_retry_after(" \t7 ")->count() == 7);
}

BOOST_AUTO_TEST_CASE(huge_delta_seconds_saturate_at_2_pow_31) {
    BOOST_TEST(retry::parse_retry_after("99999999999999999999999999")->count() == (1LL << 31));
}

BOOST_AUTO_TEST_CASE(future_http_date_gives_the_time_left) {
    const auto d = retry::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_now);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 37);
}

BOOST_AUTO_TEST_CASE(partial_seconds_left_round_up) {
    const auto d = retry::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_now + 36s + 500ms);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 1);
}

BOOST_AUTO_TEST_CASE(past_http_date_means_now) {
    const auto d = retry::parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", rfc_now);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 0);
}

BOOST_AUTO_TEST_CASE(http_date_across_a_leap_day) {
    const auto now = sys_days(year(2024) / February / 28) + 12h;
    const auto d = retry::parse_retry_after("Fri, 01 Mar 2024 12:00:00 GMT", now);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 2 * 24 * 3600);
}

// Found by aws_response_fuzz: dates outside 1678..2262 overflowed the nanosecond clock (UBSan).
BOOST_AUTO_TEST_CASE(http_dates_far_from_now_do_not_overflow) {
    const auto past = retry::parse_retry_after("Mon, 01 Jan 0000 00:00:00 GMT", rfc_now);
    BOOST_REQUIRE(past);
    BOOST_TEST(past->count() == 0);
    const auto future = retry::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", rfc_now);
    BOOST_REQUIRE(future);
    const auto expected = sys_days(year(9999) / December / 31) + 23h + 59min + 59s - floor<seconds>(rfc_now);
    BOOST_TEST(future->count() == expected.count());
}

BOOST_AUTO_TEST_CASE(anything_else_is_refused) {
    for (const char* text :
         {"", "   ", "-1", "+5", "1.5", "12abc", "soon", "Sun, 06 Nov 1994 08:49:37 UTC",
          "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
          "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
          "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"}) {
        BOOST_TEST(!retry::parse_retry_after(text, rfc_now), "accepted: \"" << text << "\"");
    }
}

BOOST_AUTO_TEST_CASE(retry_category_names_exhaustion) {
    const boost::system::error_code ec = retry::error::retries_exhausted;
    BOOST_TEST(std::string(ec.category().name()) == "edgeloop.retry");
    BOOST_TEST(ec.message() == "all retry attempts failed");
}

BOOST_AUTO_TEST_SUITE_END()
