// gpio::debouncer: raw bouncing edges in, clean presses and releases out, trailing edge never dropped.
#include <edgeloop/gpio/debouncer.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace gpio = edgeloop::gpio;
using namespace std::chrono_literals;

namespace {

using clock_type = gpio::debouncer::clock;
const clock_type::time_point t0 = clock_type::time_point(1h);

clock_type::time_point at(int ms) {
    return t0 + std::chrono::milliseconds(ms);
}

/// One step of a scenario: feed a raw edge at `ms`, or poll at `ms`.
struct step {
    enum kind { feed, poll } what;
    int ms;
    gpio::edge edge = gpio::edge::rising;
};

step r(int ms) {
    return {step::feed, ms, gpio::edge::rising};
}
step f(int ms) {
    return {step::feed, ms, gpio::edge::falling};
}
step p(int ms) {
    return {step::poll, ms};
}

struct clean {
    gpio::edge edge;
    int ms;
};

struct bounce_case {
    std::string name;
    int settle_ms;
    bool initially_active;
    std::vector<step> steps;
    std::vector<clean> expected;
};

std::vector<clean> run(const bounce_case& c) {
    gpio::debouncer d(std::chrono::milliseconds(c.settle_ms), c.initially_active);
    std::vector<clean> out;
    std::uint64_t expected_sequence = 0;
    for (const auto& s : c.steps) {
        std::optional<gpio::edge_event> e;
        if (s.what == step::feed) {
            gpio::edge_event raw;
            raw.line = 17;
            raw.edge = s.edge;
            raw.timestamp = at(s.ms);
            e = d.feed(raw);
        } else {
            e = d.poll(at(s.ms));
        }
        if (e) {
            BOOST_TEST(e->line == 17u);
            BOOST_TEST(e->sequence == ++expected_sequence,
                       c.name << ": clean sequence numbers are consecutive");
            out.push_back({e->edge, static_cast<int>((e->timestamp - t0) / 1ms)});
        }
    }
    return out;
}

const std::vector<bounce_case> cases{
    {"clean press is reported once the settle window has passed",
     10,
     false,
     {r(0), p(9), p(10)},
     {{gpio::edge::rising, 0}}},
    {"bouncing press is one press stamped with its first edge",
     10,
     false,
     {r(0), f(1), r(2), f(3), r(4), p(13), p(14)},
     {{gpio::edge::rising, 0}}},
    {"press and release, each bouncing, give one press and one release",
     10,
     false,
     {r(0), f(1), r(2), f(100), r(101), f(102), p(112)},
     {{gpio::edge::rising, 0}, {gpio::edge::falling, 100}}},
    {"glitch that ends where it began reports nothing", 10, false, {r(0), f(3), p(50)}, {}},
    {"trailing edge of a burst is reported by poll with no edge after it",
     10,
     true,
     {f(0), r(1), f(2), p(12)},
     {{gpio::edge::falling, 0}}},
    {"settled burst is reported by the next raw edge when no poll came",
     10,
     false,
     {r(0), f(50), p(60)},
     {{gpio::edge::rising, 0}, {gpio::edge::falling, 50}}},
    {"edge repeated after a lost one does not invert the level",
     10,
     false,
     {r(0), r(40), p(60)},
     {{gpio::edge::rising, 0}}},
    {"contact that keeps bouncing is reported only once it is quiet",
     10,
     false,
     {r(0), f(5), r(10), f(15), r(20), p(29), p(30)},
     {{gpio::edge::rising, 0}}},
    {"edges exactly one window apart are separate bursts",
     10,
     false,
     {r(0), f(10), p(20)},
     {{gpio::edge::rising, 0}, {gpio::edge::falling, 10}}},
    {"polls without a burst report nothing", 10, false, {p(0), p(100)}, {}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(debouncer)

BOOST_AUTO_TEST_CASE(bounce_patterns) {
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const auto got = run(c);
            BOOST_TEST_REQUIRE(got.size() == c.expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                BOOST_TEST((got[i].edge == c.expected[i].edge), "edge " << i);
                BOOST_TEST(got[i].ms == c.expected[i].ms, "timestamp of edge " << i);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(deadline_tells_when_to_poll) {
    gpio::debouncer d(10ms);
    BOOST_TEST(!d.deadline());
    gpio::edge_event raw;
    raw.timestamp = at(0);
    d.feed(raw);
    BOOST_TEST((d.deadline() == at(10)));
    raw.edge = gpio::edge::falling;
    raw.timestamp = at(4);
    d.feed(raw);
    BOOST_TEST((d.deadline() == at(14)), "every raw edge extends the window");
    d.poll(at(14));
    BOOST_TEST(!d.deadline());
}

BOOST_AUTO_TEST_CASE(lost_events_reach_the_clean_edge) {
    gpio::debouncer d(10ms);
    gpio::edge_event raw;
    raw.timestamp = at(0);
    raw.lost = 2;
    d.feed(raw);
    const auto e = d.poll(at(10));
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->lost == 2u);
    BOOST_TEST(d.active());
}

BOOST_AUTO_TEST_SUITE_END()
