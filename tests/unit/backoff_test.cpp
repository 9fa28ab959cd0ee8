#include <edgeloop/retry/backoff.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

namespace retry = edgeloop::retry;
using namespace std::chrono_literals;

namespace {

/// A random source that replays `values` in order (and fails the test if asked for more).
retry::random_source scripted(std::vector<std::uint32_t> values) {
    auto state = std::make_shared<std::pair<std::vector<std::uint32_t>, std::size_t>>(std::move(values), 0);
    return [state] {
        BOOST_REQUIRE_MESSAGE(state->second < state->first.size(), "random source asked for too many values");
        return state->first[state->second++];
    };
}

retry::random_source constant(std::uint32_t v) {
    return [v] { return v; };
}

const retry::policy demo{.base = 500ms, .max = 5000ms, .max_attempts = 5};

} // namespace

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(default_policy_is_the_core_http_demo_policy) {
    const retry::policy p;
    BOOST_TEST(p.base.count() == 500);
    BOOST_TEST(p.max.count() == 5000);
    BOOST_TEST(p.max_attempts == 5u);
}

BOOST_AUTO_TEST_CASE(windows_double_from_base_to_max_then_exhaust) {
    retry::backoff b(demo, constant(0));
    std::vector<long> windows;
    while (!b.exhausted()) {
        windows.push_back(static_cast<long>(b.next_window().count()));
        BOOST_REQUIRE(b.next_backoff());
    }
    BOOST_TEST(windows == (std::vector<long>{500, 1000, 2000, 4000, 5000}), boost::test_tools::per_element());
    BOOST_TEST(b.attempts() == 5u);
    BOOST_TEST(!b.next_backoff());
    BOOST_TEST(b.attempts() == 5u);
}

BOOST_AUTO_TEST_CASE(window_upper_bounds_are_inclusive) {
    // random % (window + 1): the window's own value is a possible delay.
    retry::backoff b(demo, scripted({500, 1000, 2000, 4000, 5000}));
    std::vector<long> delays;
    while (auto d = b.next_backoff())
        delays.push_back(static_cast<long>(d->count()));
    BOOST_TEST(delays == (std::vector<long>{500, 1000, 2000, 4000, 5000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_past_the_window_wraps_to_zero) {
    retry::backoff b(demo, scripted({501, 1001, 2001, 4001, 5001}));
    std::vector<long> delays;
    while (auto d = b.next_backoff())
        delays.push_back(static_cast<long>(d->count()));
    BOOST_TEST(delays == (std::vector<long>{0, 0, 0, 0, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(largest_random_value_gives_the_modulo_of_each_window) {
    retry::backoff b(demo, constant(std::numeric_limits<std::uint32_t>::max()));
    std::vector<long> delays;
    while (auto d = b.next_backoff())
        delays.push_back(static_cast<long>(d->count()));
    // 4294967295 % 501, % 1001, % 2001, % 4001, % 5001
    BOOST_TEST(delays == (std::vector<long>{6, 619, 885, 1822, 3474}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(exhausted_backoff_draws_no_random_value) {
    // The scripted source fails the test if a sixth value is requested.
    retry::backoff b(demo, scripted({1, 2, 3, 4, 5}));
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(b.next_backoff().has_value());
    BOOST_TEST(!b.next_backoff());
    BOOST_TEST(!b.next_backoff());
}

BOOST_AUTO_TEST_CASE(explicit_random_value_is_the_sans_io_step) {
    retry::backoff b(demo, scripted({}));
    BOOST_TEST(b.next_backoff_from(123)->count() == 123);
    BOOST_TEST(b.next_backoff_from(1500)->count() == 1500 % 1001);
    BOOST_TEST(b.attempts() == 2u);
    BOOST_TEST(b.next_window().count() == 2000);
}

BOOST_AUTO_TEST_CASE(retry_forever_never_exhausts_and_stays_at_max) {
    retry::backoff b({.base = 500ms, .max = 5000ms, .max_attempts = retry::retry_forever}, constant(5000));
    int at_max = 0;
    for (int i = 0; i < 10000; ++i) {
        const auto d = b.next_backoff();
        if (d && d->count() == 5000)
            ++at_max;
    }
    // The windows 500, 1000, 2000 and 4000 cannot give 5000; every later window is [0, 5000].
    BOOST_TEST(at_max == 10000 - 4);
    BOOST_TEST(!b.exhausted());
    BOOST_TEST(b.next_window().count() == 5000);
    BOOST_TEST(b.attempts() == 10000u);
}

BOOST_AUTO_TEST_CASE(zero_attempts_means_no_retry) {
    retry::backoff b({.base = 500ms, .max = 5000ms, .max_attempts = 0}, constant(0));
    BOOST_TEST(b.exhausted());
    BOOST_TEST(!b.next_backoff());
}

BOOST_AUTO_TEST_CASE(base_above_half_max_jumps_straight_to_max) {
    retry::backoff b({.base = 3000ms, .max = 5000ms, .max_attempts = 3}, constant(0));
    std::vector<long> windows;
    while (!b.exhausted()) {
        windows.push_back(static_cast<long>(b.next_window().count()));
        BOOST_REQUIRE(b.next_backoff());
    }
    BOOST_TEST(windows == (std::vector<long>{3000, 5000, 5000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(larger_retry_after_wins_and_still_counts_an_attempt) {
    retry::backoff b(demo, constant(100));
    const auto d = b.next_backoff(2000ms);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 2000);
    BOOST_TEST(b.attempts() == 1u);
    BOOST_TEST(b.next_window().count() == 1000);
}

BOOST_AUTO_TEST_CASE(smaller_retry_after_leaves_the_jitter_delay) {
    retry::backoff b(demo, constant(400));
    const auto d = b.next_backoff(10ms);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 400);
}

BOOST_AUTO_TEST_CASE(retry_after_does_not_extend_the_attempts) {
    retry::backoff b({.base = 500ms, .max = 5000ms, .max_attempts = 1}, constant(0));
    BOOST_TEST(b.next_backoff(60s).has_value());
    BOOST_TEST(!b.next_backoff(60s));
}

BOOST_AUTO_TEST_CASE(retry_after_is_capped_at_the_backoff_maximum_by_default) {
    retry::backoff b(demo, constant(100));
    BOOST_TEST(b.max_retry_after().count() == 5000);
    // The largest Retry-After parse_retry_after gives: 2^31 s, 68 years.
    const auto d = b.next_backoff(std::chrono::seconds(std::int64_t{1} << 31));
    BOOST_REQUIRE(d);
    BOOST_TEST(d->count() == 5000);
    BOOST_TEST(b.attempts() == 1u);
    const auto just_below = b.next_backoff(4999ms);
    BOOST_REQUIRE(just_below);
    BOOST_TEST(just_below->count() == 4999, "a Retry-After within the cap is honoured as it is");
}

BOOST_AUTO_TEST_CASE(the_retry_after_cap_is_configurable) {
    retry::backoff b(demo, constant(100));
    b.set_max_retry_after(60s);
    BOOST_TEST(b.max_retry_after().count() == 60000);
    BOOST_TEST(b.next_backoff(1h)->count() == 60000);
    BOOST_TEST(b.next_backoff(30s)->count() == 30000);
    b.set_max_retry_after(-5ms);
    BOOST_TEST(b.max_retry_after().count() == 0);
}

BOOST_AUTO_TEST_CASE(a_cap_below_the_jitter_delay_leaves_the_jitter_delay) {
    retry::backoff b(demo, constant(400));
    b.set_max_retry_after(10ms);
    BOOST_TEST(b.next_backoff(1h)->count() == 400);
}

BOOST_AUTO_TEST_CASE(reset_starts_over) {
    retry::backoff b(demo, constant(0));
    while (b.next_backoff()) {
    }
    b.reset();
    BOOST_TEST(b.attempts() == 0u);
    BOOST_TEST(b.next_window().count() == 500);
    BOOST_TEST(b.next_backoff().has_value());
}

BOOST_AUTO_TEST_CASE(default_sources_are_seeded_differently) {
    // Two engines seeded from random_device agreeing on four 32-bit draws: probability 2^-128.
    auto a = retry::default_random_source();
    auto b = retry::default_random_source();
    bool differ = false;
    for (int i = 0; i < 4; ++i)
        differ = a() != b() || differ;
    BOOST_TEST(differ);
}

BOOST_AUTO_TEST_CASE(default_constructed_backoff_stays_within_its_windows) {
    retry::backoff b(demo);
    while (!b.exhausted()) {
        const auto window = b.next_window();
        const auto d = b.next_backoff();
        BOOST_REQUIRE(d);
        BOOST_TEST(d->count() >= 0);
        BOOST_TEST(d->count() <= window.count());
    }
}

BOOST_AUTO_TEST_CASE(empty_random_source_is_refused) {
    BOOST_CHECK_THROW(retry::backoff(demo, retry::random_source{}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
