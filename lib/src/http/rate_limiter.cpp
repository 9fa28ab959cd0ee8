#include "rate_limiter.hpp"

#include "fetch_op.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgeloop::http {

namespace detail {

token_bucket::token_bucket(std::uint64_t bytes_per_second, time_point now)
    : rate_(bytes_per_second)
    , tokens_(static_cast<double>(burst()))
    , last_(now) {}

std::uint64_t token_bucket::burst() const noexcept {
    return std::max<std::uint64_t>(rate_ / 10, 1);
}

std::uint64_t token_bucket::quantum() const noexcept {
    return std::min(burst(), std::max<std::uint64_t>(rate_ / 50, 1));
}

std::uint64_t token_bucket::needed(std::uint64_t want) const noexcept {
    return std::min(quantum(), std::max<std::uint64_t>(want, 1));
}

void token_bucket::refill(time_point now) {
    if (unlimited() || now <= last_)
        return;
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(static_cast<double>(burst()), tokens_ + elapsed * static_cast<double>(rate_));
    last_ = now;
}

void token_bucket::set_rate(std::uint64_t bytes_per_second, time_point now) {
    refill(now);
    const bool was_unlimited = unlimited();
    rate_ = bytes_per_second;
    last_ = now;
    if (unlimited())
        return;
    tokens_ = was_unlimited ? static_cast<double>(burst()) : std::min(tokens_, static_cast<double>(burst()));
}

std::uint64_t token_bucket::allowance(std::uint64_t want, time_point now) {
    if (unlimited())
        return want;
    if (want == 0)
        return 0;
    refill(now);
    if (tokens_ < static_cast<double>(needed(want)))
        return 0;
    return std::min(want, static_cast<std::uint64_t>(std::floor(tokens_)));
}

void token_bucket::consume(std::uint64_t n, time_point now) {
    if (unlimited())
        return;
    refill(now);
    tokens_ -= static_cast<double>(n);
}

token_bucket::duration token_bucket::wait_time(std::uint64_t want, time_point now) {
    if (allowance(want, now) != 0 || want == 0)
        return duration::zero();
    const double deficit = static_cast<double>(needed(want)) - tokens_;
    // Rounded up, and one tick more: the refill computed at that time must not fall a rounding short.
    return std::chrono::ceil<duration>(std::chrono::duration<double>(deficit / static_cast<double>(rate_))) +
           duration(1);
}

double token_bucket::tokens(time_point now) {
    refill(now);
    return unlimited() ? 0.0 : tokens_;
}

rate_gate::rate_gate(boost::asio::any_io_executor ex, std::shared_ptr<rate_limit_state> own,
                     std::shared_ptr<rate_limit_state> client, direction which)
    : own_(std::move(own))
    , client_(std::move(client))
    , which_(which)
    , timer_(std::move(ex)) {}

rate_gate::~rate_gate() {
    leave();
}

bool rate_gate::limited() const noexcept {
    return (own_ && !own_->of(which_).unlimited()) || (client_ && !client_->of(which_).unlimited());
}

std::size_t rate_gate::allowance(std::size_t want) {
    const auto now = token_bucket::clock::now();
    std::uint64_t allowed = want;
    if (own_)
        allowed = std::min(allowed, own_->of(which_).allowance(want, now));
    if (client_ && allowed != 0)
        allowed = std::min(allowed, client_->of(which_).allowance(want, now));
    return static_cast<std::size_t>(allowed);
}

void rate_gate::consume(std::size_t n) {
    const auto now = token_bucket::clock::now();
    if (own_)
        own_->of(which_).consume(n, now);
    if (client_)
        client_->of(which_).consume(n, now);
}

void rate_gate::wait(std::size_t want, std::function<void()> resume) {
    want_ = want;
    resume_ = std::move(resume);
    if (!waiting_) {
        if (own_)
            own_at_ = own_->waiting.insert(own_->waiting.end(), this);
        if (client_)
            client_at_ = client_->waiting.insert(client_->waiting.end(), this);
        waiting_ = true;
    }
    arm();
}

void rate_gate::arm() {
    const auto now = token_bucket::clock::now();
    auto delay = token_bucket::duration::zero();
    if (own_)
        delay = std::max(delay, own_->of(which_).wait_time(want_, now));
    if (client_)
        delay = std::max(delay, client_->of(which_).wait_time(want_, now));
    const auto generation = ++generation_;
    timer_.expires_after(delay); // cancels an earlier wait: its handler finds another generation
    timer_.async_wait([weak = weak_from_this(), generation](const boost::system::error_code&) {
        auto self = weak.lock();
        if (!self || generation != self->generation_ || !self->waiting_)
            return;
        if (self->allowance(self->want_) == 0) // a shared budget was taken by another transfer first
            return self->arm();
        self->leave();
        auto resume = std::move(self->resume_);
        self->resume_ = nullptr;
        resume();
    });
}

void rate_gate::rate_changed() {
    if (waiting_)
        arm();
}

void rate_gate::cancel() noexcept {
    ++generation_;
    leave();
    timer_.cancel();
    // Last: the closure may hold the only reference to the transfer that owns this gate.
    auto resume = std::move(resume_);
    resume_ = nullptr;
}

void rate_gate::leave() noexcept {
    if (!waiting_)
        return;
    if (own_)
        own_->waiting.erase(own_at_);
    if (client_)
        client_->waiting.erase(client_at_);
    waiting_ = false;
}

/// The gate for one direction of this transfer, or null when no limit applies to it (no limit of its own,
/// and its client's is absent or unlimited): a transfer without limits makes none.
std::shared_ptr<rate_gate> fetch_op::make_gate(direction which) {
    const auto& own = rate_limit_access::state(req_.rate_limit);
    const auto& client = rate_limit_access::state(state_->opts.rate_limit);
    if (!own && (!client || client->of(which).unlimited()))
        return nullptr;
    return std::make_shared<rate_gate>(state_->ex, own, client, which);
}

/// Body reads under a bandwidth limit: false when the transfer waits for its budget (read_body runs again
/// when the timer says it has been refilled); otherwise `room` is capped to what the budget allows, and
/// so is the next read from the connection (a burst stays small).
bool fetch_op::rate_allows(std::size_t& room) {
    read_cap_ = 65536;
    if (!rate_gate_ && !(rate_gate_ = make_gate(direction::receive)))
        return true; // the common case: no gate, no cost
    if (!rate_gate_->limited())
        return true;
    const std::size_t allowed = rate_gate_->allowance(room);
    if (allowed > 0) {
        room = allowed;
        // The piece delivered is capped exactly; a socket read of at least Beast's minimum keeps a slow
        // rate from reading chunk framing a byte at a time (what is read ahead waits in the buffer).
        read_cap_ = std::max<std::size_t>(allowed, 512);
        return true;
    }
    disarm(); // waiting for the budget is not the server being idle; the total deadline runs on
    rate_gate_->wait(room, [self = shared_from_this()] {
        if (!self->completed_)
            self->read_body();
    });
    return false;
}

/// Request body pieces under a bandwidth limit: false when the transfer waits for its budget (send_next
/// runs again when the timer says it has been refilled); otherwise send_cap_ caps the next piece (0: no
/// limit, the body goes as it would without one).
bool fetch_op::send_allows(bool with_head) {
    send_cap_ = 0;
    if (framing_ == framing::none)
        return true;
    if (!send_gate_ && !(send_gate_ = make_gate(direction::send)))
        return true;
    if (!send_gate_->limited())
        return true;
    const std::size_t want = limits().body_chunk_bytes;
    if (const std::size_t allowed = send_gate_->allowance(want); allowed > 0) {
        send_cap_ = allowed;
        return true;
    }
    disarm(); // the write deadline is for the peer taking bytes, not for our own budget
    send_gate_->wait(want, [self = shared_from_this(), with_head] {
        if (!self->completed_)
            self->send_next(with_head);
    });
    return false;
}

} // namespace detail

rate_limit::rate_limit(std::uint64_t bytes_per_second)
    : state_(std::make_shared<detail::rate_limit_state>(bytes_per_second)) {}

void rate_limit::set(std::uint64_t bytes_per_second) {
    if (!state_) {
        state_ = std::make_shared<detail::rate_limit_state>(bytes_per_second);
        return;
    }
    const auto now = detail::token_bucket::clock::now();
    state_->bucket.set_rate(bytes_per_second, now);
    state_->send_bucket.set_rate(bytes_per_second, now);
    // A gate re-arms its timer (nothing runs inside this call), so the list does not change under us.
    for (auto* gate : state_->waiting)
        gate->rate_changed();
}

std::uint64_t rate_limit::bytes_per_second() const noexcept {
    return state_ ? state_->bucket.rate() : 0;
}

} // namespace edgeloop::http
