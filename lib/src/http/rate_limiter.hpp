#pragma once

// Private to lib/src/http: bandwidth limits (http::rate_limit). A sans-io token bucket (times are given
// by the caller, so tests drive it with a virtual clock), the shared state behind a rate_limit handle, and
// the gate a transfer asks before each body read, which waits on the loop's timer when a budget is spent.

#include <edgeloop/http/rate_limit.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>

namespace edgeloop::http::detail {

/// Tokens are bytes; they accumulate at the rate up to burst() and are spent by the bytes delivered.
/// Spending may go below zero (concurrent readers of a shared bucket each took what they saw): that debt
/// is repaid before the next read, so the long-run average holds exactly.
///
/// Granularity: a burst is 100 ms of the rate (at least 1 byte): after an idle spell, at most that much
/// goes at once. A reader whose budget is spent waits until a quantum, 20 ms of the rate (at least 1
/// byte, at most a burst), has accumulated: at most ~50 wake-ups a second whatever the rate, and reads of
/// about 20 ms worth of bytes instead of a byte at a time.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    /// 0: unlimited. Starts full.
    explicit token_bucket(std::uint64_t bytes_per_second = 0, time_point now = {});

    /// Changes the rate from `now` on: tokens earned until now are kept (at most the new burst), a debt
    /// stays owed; from unlimited, the bucket starts full.
    void set_rate(std::uint64_t bytes_per_second, time_point now);
    std::uint64_t rate() const noexcept { return rate_; }
    bool unlimited() const noexcept { return rate_ == 0; }
    std::uint64_t burst() const noexcept;
    std::uint64_t quantum() const noexcept;

    /// Bytes a read of up to `want` bytes may take at `now`: `want` when unlimited; otherwise the whole
    /// tokens held (at most want) once they reach a quantum (or want, when smaller), else 0.
    std::uint64_t allowance(std::uint64_t want, time_point now);
    /// `n` bytes were delivered (at most the allowance taken, unless the bucket is shared).
    void consume(std::uint64_t n, time_point now);
    /// How long from `now` until allowance(want) is not 0; zero when it is already.
    duration wait_time(std::uint64_t want, time_point now);
    /// Tokens held at `now` (negative: debt).
    double tokens(time_point now);

private:
    void refill(time_point now);
    std::uint64_t needed(std::uint64_t want) const noexcept;

    std::uint64_t rate_ = 0;
    double tokens_ = 0;
    time_point last_{};
};

class rate_gate;

/// Which way the bytes a gate meters go.
enum class direction : unsigned char { receive, send };

/// What a rate_limit handle shares: a bucket for each direction, at the same rate, and the gates waiting
/// on either (told when the rate changes). Two buckets, as curl keeps max_recv_speed and max_send_speed
/// apart: an upload does not spend what downloads under the same limit may read.
struct rate_limit_state {
    explicit rate_limit_state(std::uint64_t bytes_per_second)
        : bucket(bytes_per_second, token_bucket::clock::now())
        , send_bucket(bytes_per_second, token_bucket::clock::now()) {}
    token_bucket bucket;      ///< response bodies read
    token_bucket send_bucket; ///< request bodies written
    std::list<rate_gate*> waiting;
    token_bucket& of(direction d) noexcept { return d == direction::send ? send_bucket : bucket; }
};

struct rate_limit_access {
    static const std::shared_ptr<rate_limit_state>& state(const rate_limit& r) noexcept { return r.state_; }
};

/// One transfer's view of its limits: its own (request::rate_limit) and its client's. Owned by the
/// transfer; lives in a shared_ptr so that its timer's handler can tell it is gone.
class rate_gate : public std::enable_shared_from_this<rate_gate> {
public:
    rate_gate(boost::asio::any_io_executor ex, std::shared_ptr<rate_limit_state> own,
              std::shared_ptr<rate_limit_state> client, direction which = direction::receive);
    rate_gate(const rate_gate&) = delete;
    rate_gate& operator=(const rate_gate&) = delete;
    ~rate_gate();

    /// True when either limit is set to a rate (not unlimited) now.
    bool limited() const noexcept;
    /// Bytes a read of up to `want` bytes may take now under both limits (the stricter); 0: wait().
    std::size_t allowance(std::size_t want);
    /// `n` body bytes were delivered (or staged to be written): spent from both budgets.
    void consume(std::size_t n);
    /// Calls `resume` once allowance(want) is no longer 0, from the timer's handler (never inside this
    /// call). A rate change re-arms the timer for the new rate. cancel() drops `resume` unrun.
    void wait(std::size_t want, std::function<void()> resume);
    void cancel() noexcept;
    /// A limit this gate waits on has changed.
    void rate_changed();

private:
    void arm();
    void leave() noexcept;

    std::shared_ptr<rate_limit_state> own_;
    std::shared_ptr<rate_limit_state> client_;
    direction which_;
    boost::asio::steady_timer timer_;
    std::function<void()> resume_;
    std::size_t want_ = 0;
    std::uint64_t generation_ = 0;
    bool waiting_ = false;
    std::list<rate_gate*>::iterator own_at_;
    std::list<rate_gate*>::iterator client_at_;
};

} // namespace edgeloop::http::detail
