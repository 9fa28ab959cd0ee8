#pragma once

#include <cstdint>
#include <memory>

namespace edgeloop::http {

namespace detail {
struct rate_limit_state;
struct rate_limit_access;
} // namespace detail

/// A bandwidth limit in bytes per second, changeable while transfers run under it (curl's --limit-rate).
///
/// A handle: copies share one limit (one token bucket per direction). Put one in request::rate_limit for a
/// transfer's own limit, or in client_options::rate_limit for the whole client (client::set_rate_limit); one
/// handle given to several requests (or clients) makes them share one budget. A transfer under two limits
/// (its own and its client's) obeys the stricter at every moment. set() takes effect at once for every
/// transfer under the limit, those waiting for it included.
///
/// What is limited: response body bytes as they are read from the connection (a transfer whose budget
/// is spent issues no read until the loop's timer says it has been refilled: no sleeping, no thread;
/// other transfers and timers on the loop go on), and request body bytes as they are written, with a
/// budget of their own at the same rate (as curl's max_recv_speed and max_send_speed): each piece written
/// is at most what the send budget allows. Reads and writes are at most what the budget allows, so a
/// burst stays within about 100 ms of the rate; the average holds over any few seconds. A limit shared
/// by concurrent transfers is shared, not divided fairly.
///
/// Threads: not thread-safe; use a handle (set(), bytes_per_second()) on the executor of the client(s)
/// whose transfers it limits, like every client member but async_fetch.
class rate_limit {
public:
    /// No limit object: as if unlimited, and set() makes one.
    rate_limit() = default;
    /// A limit of `bytes_per_second`; 0: unlimited for now (set() may limit it later).
    explicit rate_limit(std::uint64_t bytes_per_second);

    /// Changes the limit (0: unlimited) for every transfer under it, running and waiting ones included.
    /// On an empty handle, makes the limit first (copies made before do not share it).
    void set(std::uint64_t bytes_per_second);
    /// The limit, 0 when unlimited or empty.
    std::uint64_t bytes_per_second() const noexcept;
    /// True when the handle holds a limit (even one set to 0).
    explicit operator bool() const noexcept { return state_ != nullptr; }

private:
    friend struct detail::rate_limit_access;
    std::shared_ptr<detail::rate_limit_state> state_;
};

} // namespace edgeloop::http
