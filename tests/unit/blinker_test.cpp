// gpio::tick_schedule and gpio::blinker: toggles on absolute deadlines, lateness recorded, no drift.
#include <edgeloop/gpio/blinker.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace gpio = edgeloop::gpio;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

using clock_type = gpio::tick_schedule::clock;

/// An output that remembers every value it was set to.
class recording_output final : public gpio::output {
public:
    recording_output()
        : gpio::output("LED1", true) {}
    std::vector<bool> values;

private:
    void write(bool on, boost::system::error_code&) noexcept override { values.push_back(on); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(blinker)

BOOST_AUTO_TEST_CASE(late_ticks_do_not_drift_over_100_periods) {
    // Every tick fires late by up to 90 % of a period; re-arming "period from now" would have drifted by
    // the sum of those (about 45 periods here). Absolute deadlines stay on the grid.
    const auto start = clock_type::time_point(10s);
    gpio::tick_schedule s(start, 500ms);
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> late_us(0, 450'000);
    clock_type::duration total_lateness{};
    for (std::uint64_t k = 1; k <= 100; ++k) {
        BOOST_TEST_REQUIRE(s.next_index() == k);
        const auto lateness = std::chrono::microseconds(late_us(rng));
        const auto f = s.fire(s.deadline() + lateness);
        BOOST_TEST(f.index == k);
        BOOST_TEST((f.deadline == start + k * 500ms));
        BOOST_TEST((f.lateness == lateness));
        BOOST_TEST(f.skipped == 0u);
        total_lateness += lateness;
    }
    BOOST_TEST((s.deadline() == start + 101 * 500ms), "tick 101 is due exactly 101 periods after the start");
    BOOST_TEST((total_lateness > 10 * 500ms), "the lateness was large enough to have drifted");
}

BOOST_AUTO_TEST_CASE(a_tick_later_than_a_period_skips_the_deadlines_passed) {
    const auto start = clock_type::time_point(10s);
    gpio::tick_schedule s(start, 100ms);
    const auto f = s.fire(start + 350ms); // tick 1 was due at 100 ms; 200 and 300 ms have passed too
    BOOST_TEST(f.index == 1u);
    BOOST_TEST((f.lateness == 250ms));
    BOOST_TEST(f.skipped == 2u);
    BOOST_TEST(s.next_index() == 4u);
    BOOST_TEST((s.deadline() == start + 400ms), "still on the grid");
}

BOOST_AUTO_TEST_CASE(an_early_timer_counts_as_on_time) {
    gpio::tick_schedule s(clock_type::time_point(10s), 100ms);
    const auto f = s.fire(clock_type::time_point(10s) + 99ms);
    BOOST_TEST((f.lateness == clock_type::duration::zero()));
    BOOST_TEST(s.next_index() == 2u);
}

BOOST_AUTO_TEST_CASE(real_timer_toggles_on_absolute_deadlines) {
    // A real steady_timer with a 2 ms period for 100 periods. On a loaded machine single toggles may be
    // late or skipped; what must hold is where each one was scheduled, never how late it ran.
    // The blinker keeps the last 16 toggles only; the test sees every one as it happens (one handler per
    // run_one, one toggle per handler), so it can tell what the whole-run and recent figures must be.
    net::io_context ioc;
    recording_output led;
    constexpr std::size_t history = 16;
    gpio::blinker b(ioc.get_executor(), led, 2ms, history);
    b.start();
    BOOST_TEST_REQUIRE(led.values.size() == 1u);
    BOOST_TEST(!led.values.front(), "start() turns the LED off");
    BOOST_TEST(b.running());
    std::vector<gpio::blinker::tick> ticks;
    const auto limit = clock_type::now() + 20s;
    while (clock_type::now() < limit && ticks.size() < 100) {
        ioc.run_one_until(limit);
        const auto recent = b.history();
        if (!recent.empty() && (ticks.empty() || recent.back().index != ticks.back().index))
            ticks.push_back(recent.back());
    }
    b.stop();
    BOOST_TEST_REQUIRE(!ticks.empty());
    BOOST_TEST_REQUIRE(ticks.size() >= 100u, "100 toggles within 20 s");

    std::uint64_t expected_index = 1;
    for (const auto& t : ticks) {
        BOOST_TEST((t.deadline == b.started_at() + t.index * 2ms), "tick " << t.index << " on the grid");
        BOOST_TEST((t.lateness >= clock_type::duration::zero()));
        BOOST_TEST(t.index == expected_index, "the tick after the deadlines skipped");
        expected_index = t.index + t.skipped + 1;
    }
    // Each toggle sets the phase of its tick: odd ticks on, even ticks off.
    BOOST_TEST_REQUIRE(led.values.size() == ticks.size() + 2, "start, every tick, stop");
    for (std::size_t i = 0; i < ticks.size(); ++i)
        BOOST_TEST(led.values[i + 1] == (ticks[i].index % 2 == 1), "tick " << ticks[i].index);
    BOOST_TEST(!led.values.back(), "stop() turns the LED off");
    BOOST_TEST(!led.get());

    const auto st = b.lateness();
    BOOST_TEST(st.toggles == ticks.size());
    BOOST_TEST(st.toggles + st.skipped == ticks.back().index + ticks.back().skipped,
               "every deadline up to the next one due was toggled or counted as skipped");
    // history() is the last 16 toggles, as they happened.
    const auto recent = b.history();
    BOOST_TEST_REQUIRE(recent.size() == history);
    for (std::size_t i = 0; i < history; ++i) {
        const auto& seen = ticks[ticks.size() - history + i];
        BOOST_TEST(recent[i].index == seen.index);
        BOOST_TEST((recent[i].lateness == seen.lateness));
    }
    // min and max over the whole run; median and p99 (nearest rank) over the last 16 toggles.
    std::vector<clock_type::duration> all;
    for (const auto& t : ticks)
        all.push_back(t.lateness);
    std::vector<clock_type::duration> last(all.end() - history, all.end());
    std::sort(last.begin(), last.end());
    BOOST_TEST((st.min == *std::min_element(all.begin(), all.end())));
    BOOST_TEST((st.max == *std::max_element(all.begin(), all.end())));
    BOOST_TEST((st.median == last[7]), "rank ceil(0.5 * 16) = 8");
    BOOST_TEST((st.p99 == last[15]), "rank ceil(0.99 * 16) = 16");
    const auto ms = [](clock_type::duration d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f ms", std::chrono::duration<double, std::milli>(d).count());
        return std::string(buf);
    };
    const auto report = b.report();
    BOOST_TEST(report == "LED1 blinker: " + std::to_string(st.toggles) + " toggles every 2 ms (" +
                             std::to_string(st.skipped) + " skipped); lateness min " + ms(st.min) +
                             ", median " + ms(st.median) + ", p99 " + ms(st.p99) + ", max " + ms(st.max),
               report);

    // Stopped: the cancelled timer's handler runs and toggles nothing; the loop has nothing left.
    const auto toggled = led.values.size();
    ioc.restart();
    ioc.run_for(5s);
    BOOST_TEST(ioc.stopped(), "no timer left behind");
    BOOST_TEST(led.values.size() == toggled);
    BOOST_TEST(!b.running());
}

BOOST_AUTO_TEST_CASE(statistics_use_nearest_rank) {
    std::vector<clock_type::duration> samples;
    for (int ms = 100; ms >= 1; --ms)
        samples.push_back(std::chrono::milliseconds(ms));
    const auto st = gpio::blinker::summarize(samples);
    BOOST_TEST(st.toggles == 100u);
    BOOST_TEST((st.min == 1ms));
    BOOST_TEST((st.median == 50ms));
    BOOST_TEST((st.p99 == 99ms));
    BOOST_TEST((st.max == 100ms));
    const auto one = gpio::blinker::summarize({7ms});
    BOOST_TEST((one.median == 7ms));
    BOOST_TEST((one.p99 == 7ms));
    BOOST_TEST(gpio::blinker::summarize({}).toggles == 0u);
}

BOOST_AUTO_TEST_CASE(a_new_blinker_is_idle_with_empty_statistics) {
    net::io_context ioc;
    recording_output led;
    gpio::blinker b(ioc.get_executor(), led, 1h);
    BOOST_TEST(!b.running());
    BOOST_TEST(b.lateness().toggles == 0u);
    BOOST_TEST(b.history().empty());
    BOOST_TEST(led.values.empty(), "constructing does not touch the output");
}

BOOST_AUTO_TEST_SUITE_END()
