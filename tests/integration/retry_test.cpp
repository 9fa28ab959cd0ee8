// async_retry on a real io_context: attempts, backoff waits on a steady_timer, exhaustion, cancellation.
#include <edgeloop/retry/async_retry.hpp>

#include <edgeloop/retry/backoff.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <tuple>
#include <vector>

namespace retry = edgeloop::retry;
namespace net = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

struct outcome {
    bool done = false;
    int calls = 0;
    error_code ec;
    retry::result result;
};

auto record(outcome& out) {
    return [&out](error_code ec, retry::result r) {
        out.done = true;
        ++out.calls;
        out.ec = ec;
        out.result = std::move(r);
    };
}

/// Runs ioc until `out` completes; a hang fails the test after `limit`.
void run_until_done(net::io_context& ioc, const outcome& out, std::chrono::seconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    // A loop that ran out of work earlier is stopped until restarted.
    ioc.restart();
    while (!out.done && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    BOOST_REQUIRE_MESSAGE(out.done, "async_retry did not complete within " << limit.count() << " s");
    BOOST_TEST(out.calls == 1);
}

/// An operation that completes each attempt with the next scripted error (inline, as a sans-io check
/// or a cached failure would), counting its calls.
struct scripted_operation {
    std::shared_ptr<std::vector<error_code>> script;
    std::shared_ptr<int> calls = std::make_shared<int>(0);

    void operator()(retry::attempt_handler h) const {
        const auto i = static_cast<std::size_t>((*calls)++);
        std::move(h)(i < script->size() ? (*script)[i] : error_code{});
    }
};

scripted_operation fail_with(std::vector<error_code> errors) {
    return {std::make_shared<std::vector<error_code>>(std::move(errors))};
}

const error_code refused = make_error_code(boost::system::errc::connection_refused);
const error_code reset = make_error_code(boost::system::errc::connection_reset);

/// The window each retry's delay is drawn from, by the reference sans-io backoff.
std::vector<std::chrono::milliseconds> windows_of(retry::policy p, std::size_t n) {
    retry::backoff b(p, [] { return 0u; });
    std::vector<std::chrono::milliseconds> out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(b.next_window());
        (void)b.next_backoff();
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(async_retry)

BOOST_AUTO_TEST_CASE(failing_twice_then_succeeding_takes_three_attempts) {
    net::io_context ioc;
    const retry::policy p{.base = 10ms, .max = 100ms, .max_attempts = 5};
    auto op = fail_with({refused, reset});
    std::vector<std::tuple<std::uint32_t, std::chrono::milliseconds, error_code>> hooks;
    retry::retry_options opts;
    opts.on_retry = [&](std::uint32_t attempt, std::chrono::milliseconds delay, const error_code& ec) {
        hooks.emplace_back(attempt, delay, ec);
    };
    outcome out;
    retry::async_retry(ioc.get_executor(), p, op, std::move(opts), record(out));
    BOOST_TEST(*op.calls == 0); // never inside the initiating call
    run_until_done(ioc, out);

    BOOST_TEST(!out.ec);
    BOOST_TEST(out.result.attempts == 3u);
    BOOST_TEST(*op.calls == 3);
    BOOST_TEST(out.result.last_error == reset);
    BOOST_REQUIRE(out.result.delays.size() == 2u);
    const auto windows = windows_of(p, 2);
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST(out.result.delays[i].count() >= 0);
        BOOST_TEST(out.result.delays[i] <= windows[i], "delay " << i << " outside its window");
    }
    BOOST_REQUIRE(hooks.size() == 2u);
    BOOST_TEST(std::get<0>(hooks[0]) == 1u);
    BOOST_TEST(std::get<1>(hooks[0]) == out.result.delays[0]);
    BOOST_TEST(std::get<2>(hooks[0]) == refused);
    BOOST_TEST(std::get<0>(hooks[1]) == 2u);
    BOOST_TEST(std::get<1>(hooks[1]) == out.result.delays[1]);
    BOOST_TEST(std::get<2>(hooks[1]) == reset);
}

BOOST_AUTO_TEST_CASE(first_success_needs_no_wait) {
    net::io_context ioc;
    outcome out;
    retry::async_retry(ioc.get_executor(), {}, fail_with({}), record(out));
    run_until_done(ioc, out);
    BOOST_TEST(!out.ec);
    BOOST_TEST(out.result.attempts == 1u);
    BOOST_TEST(!out.result.last_error);
    BOOST_TEST(out.result.delays.empty());
}

BOOST_AUTO_TEST_CASE(exhaustion_reports_retries_exhausted_and_keeps_the_last_error) {
    net::io_context ioc;
    const retry::policy p{.base = 5ms, .max = 20ms, .max_attempts = 3};
    auto op = fail_with({refused, refused, refused, reset, refused});
    outcome out;
    retry::async_retry(ioc.get_executor(), p, op, record(out));
    run_until_done(ioc, out);

    BOOST_TEST(out.ec == make_error_code(retry::error::retries_exhausted));
    BOOST_TEST(out.result.attempts == 4u); // the first try and three retries
    BOOST_TEST(*op.calls == 4);
    BOOST_TEST(out.result.last_error == reset);
    BOOST_REQUIRE(out.result.delays.size() == 3u);
    const auto windows = windows_of(p, 3);
    for (std::size_t i = 0; i < 3; ++i)
        BOOST_TEST(out.result.delays[i] <= windows[i], "delay " << i << " outside its window");
}

BOOST_AUTO_TEST_CASE(zero_retries_tries_once) {
    net::io_context ioc;
    outcome out;
    retry::async_retry(ioc.get_executor(), {.base = 5ms, .max = 5ms, .max_attempts = 0}, fail_with({refused}),
                       record(out));
    run_until_done(ioc, out);
    BOOST_TEST(out.ec == make_error_code(retry::error::retries_exhausted));
    BOOST_TEST(out.result.attempts == 1u);
    BOOST_TEST(out.result.last_error == refused);
    BOOST_TEST(out.result.delays.empty());
}

BOOST_AUTO_TEST_CASE(non_retryable_error_stops_at_once) {
    net::io_context ioc;
    const error_code denied = make_error_code(boost::system::errc::permission_denied);
    retry::retry_options opts;
    opts.retryable = [&](const error_code& ec) { return ec != denied; };
    int hooks = 0;
    opts.on_retry = [&](std::uint32_t, std::chrono::milliseconds, const error_code&) { ++hooks; };
    auto op = fail_with({refused, denied, refused});
    outcome out;
    retry::async_retry(ioc.get_executor(), {.base = 5ms, .max = 5ms, .max_attempts = 5}, op, std::move(opts),
                       record(out));
    run_until_done(ioc, out);
    BOOST_TEST(out.ec == denied);
    BOOST_TEST(out.result.attempts == 2u);
    BOOST_TEST(*op.calls == 2);
    BOOST_TEST(out.result.last_error == denied);
    BOOST_TEST(out.result.delays.size() == 1u);
    BOOST_TEST(hooks == 1);
}

BOOST_AUTO_TEST_CASE(an_attempt_aborted_by_someone_else_is_not_retried_by_default) {
    net::io_context ioc;
    outcome out;
    retry::async_retry(ioc.get_executor(), {}, fail_with({net::error::operation_aborted}), record(out));
    run_until_done(ioc, out);
    BOOST_TEST(out.ec == net::error::operation_aborted);
    BOOST_TEST(out.result.attempts == 1u);
}

BOOST_AUTO_TEST_CASE(cancellation_during_the_wait_aborts_promptly) {
    net::io_context ioc;
    net::cancellation_signal cancel;
    retry::retry_options opts;
    // A one-hour wait: only the cancellation can end this test in time.
    opts.random = [] { return 3'600'000u; };
    opts.on_retry = [&](std::uint32_t, std::chrono::milliseconds, const error_code&) {
        net::post(ioc, [&] { cancel.emit(net::cancellation_type::terminal); });
    };
    outcome out;
    retry::async_retry(ioc.get_executor(), {.base = 1h, .max = 1h, .max_attempts = 5}, fail_with({refused}),
                       std::move(opts), net::bind_cancellation_slot(cancel.slot(), record(out)));
    run_until_done(ioc, out);
    BOOST_TEST(out.ec == net::error::operation_aborted);
    BOOST_TEST(out.result.attempts == 1u);
    BOOST_TEST(out.result.last_error == refused);
    BOOST_REQUIRE(out.result.delays.size() == 1u);
    BOOST_TEST((out.result.delays[0] == std::chrono::milliseconds(1h)));
}

BOOST_AUTO_TEST_CASE(cancellation_reaches_the_running_attempt) {
    net::io_context ioc;
    net::cancellation_signal cancel;
    net::steady_timer stuck(ioc); // an attempt that would take an hour
    bool attempt_started = false;
    auto op = [&](retry::attempt_handler h) {
        attempt_started = true;
        stuck.expires_after(1h);
        stuck.async_wait(std::move(h)); // the handler carries the attempt's cancellation slot
        net::post(ioc, [&] { cancel.emit(net::cancellation_type::terminal); });
    };
    outcome out;
    retry::async_retry(ioc.get_executor(), {}, op, net::bind_cancellation_slot(cancel.slot(), record(out)));
    run_until_done(ioc, out);
    BOOST_TEST(attempt_started);
    BOOST_TEST(out.ec == net::error::operation_aborted);
    BOOST_TEST(out.result.attempts == 1u);
    BOOST_TEST(out.result.last_error == net::error::operation_aborted);
    BOOST_TEST(out.result.delays.empty());
}

BOOST_AUTO_TEST_CASE(cancellation_before_the_first_attempt_runs_nothing) {
    net::io_context ioc;
    net::cancellation_signal cancel;
    auto op = fail_with({});
    outcome out;
    retry::async_retry(ioc.get_executor(), {}, op, net::bind_cancellation_slot(cancel.slot(), record(out)));
    cancel.emit(net::cancellation_type::terminal);
    run_until_done(ioc, out);
    BOOST_TEST(out.ec == net::error::operation_aborted);
    BOOST_TEST(out.result.attempts == 0u);
    BOOST_TEST(*op.calls == 0);
}

BOOST_AUTO_TEST_CASE(longer_retry_after_replaces_the_jitter_delay) {
    net::io_context ioc;
    retry::retry_options opts;
    std::vector<error_code> asked;
    opts.retry_after = [&](const error_code& ec) -> std::optional<std::chrono::milliseconds> {
        asked.push_back(ec);
        return 30ms;
    };
    opts.max_retry_after = 1s; // the default cap is the policy's 2 ms
    outcome out;
    retry::async_retry(ioc.get_executor(), {.base = 1ms, .max = 2ms, .max_attempts = 5}, fail_with({refused}),
                       std::move(opts), record(out));
    const auto start = std::chrono::steady_clock::now();
    run_until_done(ioc, out);
    BOOST_TEST(!out.ec);
    BOOST_REQUIRE(out.result.delays.size() == 1u);
    BOOST_TEST(out.result.delays[0].count() == 30);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 30ms)); // the timer waits at least its delay
    BOOST_REQUIRE(asked.size() == 1u);
    BOOST_TEST(asked[0] == refused);
}

BOOST_AUTO_TEST_CASE(retry_after_beyond_the_cap_waits_the_cap) {
    // Retry-After may say 2^31 s; uncapped, this test would wait for 68 years (run_until_done fails it).
    const auto forever = std::chrono::milliseconds(std::chrono::seconds(std::int64_t{1} << 31));
    for (const std::optional<std::chrono::milliseconds> cap :
         {std::optional<std::chrono::milliseconds>{}, {20ms}}) {
        net::io_context ioc;
        retry::retry_options opts;
        opts.retry_after = [&](const error_code&) -> std::optional<std::chrono::milliseconds> {
            return forever;
        };
        opts.max_retry_after = cap;
        std::vector<std::chrono::milliseconds> hooked;
        opts.on_retry = [&](std::uint32_t, std::chrono::milliseconds delay, const error_code&) {
            hooked.push_back(delay);
        };
        outcome out;
        retry::async_retry(ioc.get_executor(), {.base = 1ms, .max = 2ms, .max_attempts = 5},
                           fail_with({refused}), std::move(opts), record(out));
        run_until_done(ioc, out);
        const auto expected = cap ? *cap : 2ms; // the default cap: the policy's maximum
        BOOST_TEST(!out.ec);
        BOOST_REQUIRE(out.result.delays.size() == 1u);
        BOOST_TEST(out.result.delays[0].count() == expected.count());
        BOOST_REQUIRE(hooked.size() == 1u);
        BOOST_TEST(hooked[0].count() == expected.count(), "on_retry is told the capped delay");
    }
}

BOOST_AUTO_TEST_CASE(attempts_may_complete_asynchronously_and_own_move_only_state) {
    net::io_context ioc;
    auto failures = std::make_unique<int>(2);
    auto op = [&ioc, failures = std::move(failures)](retry::attempt_handler h) mutable {
        const error_code ec = *failures > 0 ? refused : error_code{};
        --*failures;
        net::post(ioc, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
    };
    outcome out;
    retry::async_retry(ioc.get_executor(), {.base = 1ms, .max = 2ms, .max_attempts = 5}, std::move(op),
                       record(out));
    run_until_done(ioc, out);
    BOOST_TEST(!out.ec);
    BOOST_TEST(out.result.attempts == 3u);
}

BOOST_AUTO_TEST_CASE(works_with_deferred_and_awaitable_tokens) {
    net::io_context ioc;
    outcome out;
    auto deferred_op = retry::async_retry(ioc.get_executor(), {.base = 1ms, .max = 2ms, .max_attempts = 5},
                                          fail_with({refused}), net::deferred);
    std::move(deferred_op)(record(out));
    run_until_done(ioc, out);
    BOOST_TEST(!out.ec);
    BOOST_TEST(out.result.attempts == 2u);

    outcome awaited;
    net::co_spawn(
        ioc,
        [&, op = fail_with({refused, refused})]() -> net::awaitable<void> {
            // The policy is built outside the co_await: GCC 12 miscompiles braced lists inside one.
            const retry::policy p{.base = 1ms, .max = 2ms, .max_attempts = 1};
            auto [ec, r] =
                co_await retry::async_retry(ioc.get_executor(), p, op, net::as_tuple(net::use_awaitable));
            record(awaited)(ec, std::move(r));
        },
        net::detached);
    run_until_done(ioc, awaited);
    BOOST_TEST(awaited.ec == make_error_code(retry::error::retries_exhausted));
    BOOST_TEST(awaited.result.attempts == 2u);
}

BOOST_AUTO_TEST_CASE(destroying_the_loop_mid_wait_releases_everything) {
    // Under ASan this proves the pending wait holds no reference cycle.
    bool completed = false;
    {
        net::io_context ioc;
        retry::retry_options opts;
        opts.random = [] { return 3'600'000u; };
        retry::async_retry(ioc.get_executor(), {.base = 1h, .max = 1h, .max_attempts = 5},
                           fail_with({refused}), std::move(opts),
                           [&](error_code, retry::result) { completed = true; });
        ioc.run_for(20ms);
    }
    BOOST_TEST(!completed);
}

BOOST_AUTO_TEST_SUITE_END()
