// Bandwidth limits (lib/src/http/rate_limiter.hpp, private): the token bucket driven by a virtual clock
// (times are arguments, nothing waits), and the gate that combines a transfer's limit with its client's.
#include "http/rate_limiter.hpp"

#include <edgeloop/http/rate_limit.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace http = edgeloop::http;
using http::detail::token_bucket;
using namespace std::chrono_literals;

namespace {

const token_bucket::time_point t0 = token_bucket::time_point{} + 1000s;
constexpr std::uint64_t chunk = 16 * 1024;

/// A reader that reads whenever it may, as a transfer does, for `span` of virtual time from `start`,
/// taking `per_read` bytes at most each time. Returns the bytes delivered.
std::uint64_t read_for(token_bucket& b, token_bucket::time_point start, token_bucket::duration span,
                       std::uint64_t per_read = chunk) {
    std::uint64_t total = 0;
    auto t = start;
    const auto end = start + span;
    while (t < end) {
        if (const auto n = b.allowance(per_read, t)) {
            b.consume(n, t);
            total += n;
            continue;
        }
        const auto wait = b.wait_time(per_read, t);
        BOOST_REQUIRE(wait > token_bucket::duration::zero());
        t += wait;
    }
    return total;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rate_limit_bucket)

BOOST_AUTO_TEST_CASE(a_new_bucket_allows_a_burst_of_100_ms_then_nothing) {
    token_bucket b(10000, t0);
    BOOST_TEST(b.burst() == 1000u);
    BOOST_TEST(b.quantum() == 200u);
    BOOST_TEST(b.allowance(chunk, t0) == 1000u, "a read is capped by the tokens, not the buffer");
    BOOST_TEST(b.allowance(300, t0) == 300u, "nor more than asked");
    b.consume(1000, t0);
    BOOST_TEST(b.allowance(chunk, t0) == 0u);
}

BOOST_AUTO_TEST_CASE(a_spent_bucket_waits_for_a_quantum_not_for_a_byte) {
    token_bucket b(10000, t0);
    b.consume(1000, t0);
    const auto wait = b.wait_time(chunk, t0);
    BOOST_TEST(wait >= 20ms); // 200 bytes at 10000 B/s
    BOOST_TEST(wait < 20ms + 1us);
    BOOST_TEST(b.allowance(chunk, t0 + wait - 1ms) == 0u, "10 bytes earned are not worth a read");
    BOOST_TEST(b.allowance(chunk, t0 + wait) == 200u);
    BOOST_TEST(b.wait_time(chunk, t0 + wait) == token_bucket::duration::zero());
    BOOST_TEST(b.allowance(50, t0 + 5ms) == 50u, "a read wanting less than a quantum needs only that");
}

BOOST_AUTO_TEST_CASE(an_idle_bucket_fills_up_to_its_burst_only) {
    token_bucket b(10000, t0);
    b.consume(1000, t0);
    BOOST_TEST(b.allowance(chunk, t0 + 1h) == 1000u);
    BOOST_TEST(b.tokens(t0 + 2h) == 1000.0);
}

BOOST_AUTO_TEST_CASE(the_average_holds_over_ten_seconds_within_a_burst) {
    for (const std::uint64_t rate :
         {1ULL, 10ULL, 1024ULL, 100'000ULL, 1024ULL * 1024, 100ULL * 1024 * 1024}) {
        token_bucket b(rate, t0);
        const auto got = read_for(b, t0, 10s);
        BOOST_TEST_CONTEXT("rate " << rate) {
            BOOST_TEST(got >= rate * 10, "got " << got);
            BOOST_TEST(got <= rate * 10 + b.burst() + b.quantum(), "got " << got);
        }
    }
}

BOOST_AUTO_TEST_CASE(reads_stay_small_at_a_low_rate) {
    // 1 KiB/s: reads of about 20 ms of the rate, never a buffer's worth at once.
    token_bucket b(1024, t0);
    auto t = t0;
    b.consume(b.allowance(chunk, t), t); // the initial burst
    for (int i = 0; i < 100; ++i) {
        t += b.wait_time(chunk, t);
        const auto n = b.allowance(chunk, t);
        BOOST_TEST(n >= b.quantum());
        BOOST_TEST(n <= b.quantum() + 1);
        b.consume(n, t);
    }
}

BOOST_AUTO_TEST_CASE(a_debt_from_a_shared_bucket_is_repaid_before_the_next_read) {
    token_bucket b(10000, t0);
    // Two transfers saw the same 1000 tokens and each delivered them.
    b.consume(1000, t0);
    b.consume(1000, t0);
    BOOST_TEST(b.tokens(t0) == -1000.0);
    const auto wait = b.wait_time(chunk, t0);
    BOOST_TEST(wait >= 120ms); // 1000 owed + a quantum of 200, at 10000 B/s
    BOOST_TEST(wait < 120ms + 1us);
    BOOST_TEST(b.allowance(chunk, t0 + 119ms) == 0u);
}

BOOST_AUTO_TEST_CASE(a_rate_change_takes_effect_at_once_and_keeps_what_was_earned) {
    token_bucket b(10000, t0);
    b.consume(1000, t0);
    BOOST_TEST(b.wait_time(chunk, t0) >= 20ms);
    b.set_rate(1'000'000, t0 + 10ms); // 100 bytes earned at the old rate
    BOOST_TEST(b.tokens(t0 + 10ms) == 100.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(b.wait_time(chunk, t0 + 10ms) > 16ms, "16284 more bytes at 1 MB/s");
    BOOST_TEST(b.wait_time(chunk, t0 + 10ms) < 17ms);
    // Lower: what is held is capped at the new burst.
    token_bucket c(1'000'000, t0);
    c.set_rate(1000, t0);
    BOOST_TEST(c.tokens(t0) == 100.0);
    BOOST_TEST(c.allowance(chunk, t0) == 100u);
}

BOOST_AUTO_TEST_CASE(zero_is_unlimited_and_a_limit_set_later_starts_full) {
    token_bucket b(0, t0);
    BOOST_TEST(b.unlimited());
    BOOST_TEST(b.allowance(chunk, t0) == chunk);
    b.consume(1'000'000'000, t0);
    BOOST_TEST(b.wait_time(chunk, t0) == token_bucket::duration::zero());
    b.set_rate(10000, t0);
    BOOST_TEST(b.allowance(chunk, t0) == 1000u, "the bytes read while unlimited are not owed");
    b.consume(1000, t0);
    b.set_rate(0, t0);
    BOOST_TEST(b.allowance(chunk, t0) == chunk);
}

BOOST_AUTO_TEST_CASE(a_gate_under_two_limits_obeys_the_stricter) {
    boost::asio::io_context ioc;
    const http::rate_limit own(10'000);       // burst 1000
    const http::rate_limit client(1'000'000); // burst 100000
    const http::rate_limit none;
    auto state = [](const http::rate_limit& r) { return http::detail::rate_limit_access::state(r); };
    {
        auto gate = std::make_shared<http::detail::rate_gate>(ioc.get_executor(), state(own), state(client));
        BOOST_TEST(gate->limited());
        BOOST_TEST(gate->allowance(chunk) == 1000u);
        gate->consume(1000);
        BOOST_TEST(gate->allowance(chunk) == 0u, "the transfer's own budget is spent");
    }
    {
        const http::rate_limit loose(1'000'000);
        const http::rate_limit strict(10'000);
        auto gate =
            std::make_shared<http::detail::rate_gate>(ioc.get_executor(), state(loose), state(strict));
        BOOST_TEST(gate->allowance(chunk) == 1000u, "the client's is the stricter here");
        gate->consume(1000);
        BOOST_TEST(gate->allowance(chunk) == 0u);
    }
    {
        const http::rate_limit zero(0);
        auto gate = std::make_shared<http::detail::rate_gate>(ioc.get_executor(), state(zero), state(none));
        BOOST_TEST(!gate->limited());
        BOOST_TEST(gate->allowance(chunk) == chunk);
    }
}

BOOST_AUTO_TEST_CASE(a_waiting_gate_resumes_when_its_limit_is_lifted_and_never_inline) {
    boost::asio::io_context ioc;
    http::rate_limit own(1); // 1 B/s
    auto gate = std::make_shared<http::detail::rate_gate>(
        ioc.get_executor(), http::detail::rate_limit_access::state(own), nullptr);
    gate->consume(1'000'000); // a debt of about 11.5 days at 1 B/s
    BOOST_REQUIRE(gate->allowance(chunk) == 0u);
    int resumed = 0;
    gate->wait(chunk, [&] { ++resumed; });
    BOOST_TEST(resumed == 0);
    ioc.run_for(20ms);
    BOOST_TEST(resumed == 0, "still throttled");
    boost::asio::post(ioc, [&] { own.set(0); });
    ioc.run_for(5s); // returns as soon as nothing is pending: the resume ran
    BOOST_TEST(resumed == 1);
    BOOST_TEST(own.bytes_per_second() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_gate_never_resumes_and_drops_its_callback) {
    boost::asio::io_context ioc;
    const http::rate_limit own(1);
    auto gate = std::make_shared<http::detail::rate_gate>(
        ioc.get_executor(), http::detail::rate_limit_access::state(own), nullptr);
    gate->consume(1000);
    auto held = std::make_shared<int>(0);
    std::weak_ptr<int> watch = held;
    int resumed = 0;
    gate->wait(chunk, [&resumed, held = std::move(held)] { ++resumed; });
    gate->cancel();
    BOOST_TEST(watch.expired(), "what the callback held is released at once");
    gate.reset(); // the timer's handler outlives the gate
    ioc.run_for(1s);
    BOOST_TEST(resumed == 0);
}

BOOST_AUTO_TEST_CASE(an_empty_handle_is_unlimited_and_set_makes_a_limit) {
    http::rate_limit r;
    BOOST_TEST(!r);
    BOOST_TEST(r.bytes_per_second() == 0u);
    r.set(2048);
    BOOST_TEST(bool(r));
    BOOST_TEST(r.bytes_per_second() == 2048u);
    const http::rate_limit copy = r;
    r.set(4096);
    BOOST_TEST(copy.bytes_per_second() == 4096u, "copies share one limit");
}

BOOST_AUTO_TEST_SUITE_END()
