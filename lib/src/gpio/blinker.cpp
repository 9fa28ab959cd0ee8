#include <edgeloop/core/log.hpp>
#include <edgeloop/gpio/blinker.hpp>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>

namespace edgeloop::gpio {

namespace net = boost::asio;
using boost::system::error_code;

/// Shared with the pending timer handler, so that a handler that outlives the blinker finds `running`
/// false and touches nothing else (the output may be gone by then).
struct blinker::state : std::enable_shared_from_this<blinker::state> {
    state(net::any_io_executor ex, output& o, clock::duration p, std::size_t h)
        : timer(std::move(ex))
        , out(o)
        , period(p)
        , history_limit(std::max<std::size_t>(h, 1))
        , schedule(clock::now(), p) {}

    void arm() {
        timer.expires_at(schedule.deadline());
        timer.async_wait([self = shared_from_this(), generation = generation](const error_code& ec) {
            if (ec || !self->running || generation != self->generation)
                return;
            self->on_tick();
        });
    }

    void on_tick() {
        const auto f = schedule.fire(clock::now());
        error_code ec;
        out.set(f.index % 2 == 1, ec);
        if (ec && !warned) {
            warned = true;
            core::log::write(core::log_level::warn, out.name() + ": blinker cannot drive the output (" +
                                                        ec.message() + "); it keeps trying");
        }
        record(f);
        arm();
    }

    void record(const tick_schedule::fired& f) {
        if (toggles == 0) {
            min = max = f.lateness;
        } else {
            min = std::min(min, f.lateness);
            max = std::max(max, f.lateness);
        }
        ++toggles;
        skipped += f.skipped;
        recent.push_back(tick{f.index, f.deadline, f.lateness, f.skipped});
        if (recent.size() > history_limit)
            recent.pop_front();
    }

    net::steady_timer timer;
    output& out;
    clock::duration period;
    std::size_t history_limit;
    tick_schedule schedule;
    bool running = false;
    bool warned = false;
    /// Tells the handler of a timer armed before the latest start()/stop() that it is stale.
    std::uint64_t generation = 0;
    std::uint64_t toggles = 0;
    std::uint64_t skipped = 0;
    clock::duration min{};
    clock::duration max{};
    std::deque<tick> recent;
};

blinker::blinker(net::any_io_executor ex, output& out, clock::duration period, std::size_t history)
    : state_(std::make_shared<state>(std::move(ex), out, period, history)) {}

blinker::~blinker() {
    state_->running = false;
    ++state_->generation;
    state_->timer.cancel();
}

void blinker::start() {
    auto& s = *state_;
    ++s.generation;
    s.timer.cancel();
    error_code ec;
    s.out.set(false, ec);
    s.schedule = tick_schedule(clock::now(), s.period);
    s.running = true;
    s.arm();
}

void blinker::stop(bool off) {
    auto& s = *state_;
    s.running = false;
    ++s.generation;
    s.timer.cancel();
    if (off) {
        error_code ec;
        s.out.set(false, ec);
    }
}

bool blinker::running() const noexcept {
    return state_->running;
}

blinker::clock::duration blinker::period() const noexcept {
    return state_->period;
}

blinker::clock::time_point blinker::started_at() const noexcept {
    return state_->schedule.start();
}

std::vector<blinker::tick> blinker::history() const {
    return {state_->recent.begin(), state_->recent.end()};
}

blinker::statistics blinker::summarize(std::vector<clock::duration> lateness) {
    statistics st;
    if (lateness.empty())
        return st;
    std::sort(lateness.begin(), lateness.end());
    // Nearest rank: the smallest sample with at least p % of the samples at or below it.
    const auto rank = [&](std::size_t percent) {
        const std::size_t n = lateness.size();
        return lateness[std::clamp<std::size_t>((percent * n + 99) / 100, 1, n) - 1];
    };
    st.toggles = lateness.size();
    st.min = lateness.front();
    st.median = rank(50);
    st.p99 = rank(99);
    st.max = lateness.back();
    return st;
}

blinker::statistics blinker::lateness() const {
    const auto& s = *state_;
    std::vector<clock::duration> recent;
    recent.reserve(s.recent.size());
    for (const auto& t : s.recent)
        recent.push_back(t.lateness);
    statistics st = summarize(std::move(recent));
    // The recent window gives median and p99; the rest covers the whole run.
    st.toggles = s.toggles;
    st.skipped = s.skipped;
    st.min = s.min;
    st.max = s.max;
    return st;
}

std::string blinker::report() const {
    const auto st = lateness();
    const auto ms = [](clock::duration d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f ms", std::chrono::duration<double, std::milli>(d).count());
        return std::string(buf);
    };
    return state_->out.name() + " blinker: " + std::to_string(st.toggles) + " toggles every " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(state_->period).count()) +
           " ms (" + std::to_string(st.skipped) + " skipped); lateness min " + ms(st.min) + ", median " +
           ms(st.median) + ", p99 " + ms(st.p99) + ", max " + ms(st.max);
}

} // namespace edgeloop::gpio
