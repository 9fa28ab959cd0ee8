#include <edgeloop/gpio/tick_schedule.hpp>

namespace edgeloop::gpio {

tick_schedule::fired tick_schedule::fire(clock::time_point now) noexcept {
    fired f;
    f.index = next_;
    f.deadline = deadline_of(next_);
    f.lateness = now > f.deadline ? now - f.deadline : clock::duration::zero();
    // The next tick is the first one still in the future: the one after `now`, never before next_ + 1.
    std::uint64_t following = next_ + 1;
    if (now >= deadline_of(following)) {
        following = static_cast<std::uint64_t>((now - start_) / period_) + 1;
        f.skipped = following - next_ - 1;
    }
    next_ = following;
    return f;
}

} // namespace edgeloop::gpio
