#include <edgeloop/retry/backoff.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>

namespace edgeloop::retry {

random_source default_random_source() {
    // Seeded on the first draw, not here: an async_retry makes a source for every operation, most of
    // which succeed at once and never draw, and seeding (random_device, seed_seq, mt19937) costs ~70 k
    // instructions. shared_ptr: random_source is a std::function and must stay copyable; copies share
    // one engine, as before.
    auto engine = std::make_shared<std::optional<std::mt19937>>();
    return [engine] {
        if (!*engine) {
            // Seed the whole engine state, not one 32-bit word, from the kernel's entropy.
            std::random_device device;
            std::array<std::uint32_t, 8> words{};
            std::generate(words.begin(), words.end(), std::ref(device));
            std::seed_seq seq(words.begin(), words.end());
            engine->emplace(seq);
        }
        return static_cast<std::uint32_t>((**engine)());
    };
}

backoff::backoff(policy p)
    : backoff(p, default_random_source()) {}

backoff::backoff(policy p, random_source random)
    : policy_(p)
    , random_(std::move(random))
    , window_(std::max(p.base, std::chrono::milliseconds::zero())) {
    if (!random_)
        throw std::invalid_argument("retry::backoff: empty random source");
    policy_.max = std::max(policy_.max, std::chrono::milliseconds::zero());
    max_retry_after_ = policy_.max;
}

void backoff::set_max_retry_after(std::chrono::milliseconds cap) noexcept {
    max_retry_after_ = std::max(cap, std::chrono::milliseconds::zero());
}

bool backoff::exhausted() const noexcept {
    return policy_.max_attempts != retry_forever && attempts_ >= policy_.max_attempts;
}

std::optional<std::chrono::milliseconds>
backoff::next_backoff(std::optional<std::chrono::milliseconds> retry_after) {
    // Do not consume a random value once exhausted: scripted sources in tests stay aligned.
    if (exhausted())
        return std::nullopt;
    return next_backoff_from(random_(), retry_after);
}

std::optional<std::chrono::milliseconds>
backoff::next_backoff_from(std::uint32_t random_value, std::optional<std::chrono::milliseconds> retry_after) {
    if (exhausted())
        return std::nullopt;
    const auto bound = static_cast<std::uint64_t>(window_.count()) + 1;
    std::chrono::milliseconds delay(static_cast<std::chrono::milliseconds::rep>(random_value % bound));
    if (attempts_ != std::numeric_limits<std::uint32_t>::max())
        ++attempts_;
    window_ = window_ < policy_.max / 2 ? 2 * window_ : policy_.max;
    if (retry_after && *retry_after > delay)
        delay = std::max(delay, std::min(*retry_after, max_retry_after_));
    return delay;
}

void backoff::reset() noexcept {
    attempts_ = 0;
    window_ = std::max(policy_.base, std::chrono::milliseconds::zero());
}

} // namespace edgeloop::retry
