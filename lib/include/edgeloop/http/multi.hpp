#pragma once

#include <edgeloop/http/client.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace edgeloop::http {

/// One transfer handed to a multi: the request, its streaming callbacks and its completion callback.
struct transfer {
    request req;
    handlers callbacks;
    /// Called exactly once, on the client's executor, with the transfer's result.
    std::function<void(const boost::system::error_code&, const transfer_info&)> on_done;
};

namespace detail {
struct multi_state;
void multi_wait_all(const std::shared_ptr<multi_state>& state,
                    boost::asio::any_completion_handler<void(boost::system::error_code)> handler);
void multi_async_add(
    const std::shared_ptr<multi_state>& state, transfer t,
    boost::asio::any_completion_handler<void(boost::system::error_code, std::uint64_t)> handler);
} // namespace detail

/// The curl-multi replacement: add transfers, each with its own callbacks and id; cancel one; wait for
/// all; stop everything. Limits, queueing, reuse and redirects are the client's (client_options::pool).
/// Not thread-safe: call every member on the client's executor (a strand when the io_context runs on
/// several threads: from another thread, post to it, e.g. `post(strand, [&] { m.cancel(id); })`).
class multi {
public:
    using id = std::uint64_t;

    explicit multi(client& c);
    multi(const multi&) = delete;
    multi& operator=(const multi&) = delete;
    /// Stops every transfer still running (each on_done gets operation_aborted).
    ~multi();

    /// Starts (or queues) a transfer and returns its id. With pool_options::max_queued set, a transfer
    /// that would have to wait for a connection while that many already wait fails (its on_done, never
    /// inline) with error::queue_full; async_add waits for room instead.
    id add(transfer t);
    /// Adds a transfer once the client's queue has room for it (pool_options::max_queued; at once when
    /// there is no bound): a producer of many transfers holds only as many as run and may wait, not all.
    /// Completes with `void(error_code, id)` when the transfer is accepted (it is then as if add had
    /// been called: on_done follows), posted, never inline. Transfers waiting here are accepted in the
    /// order of their async_add calls (a plain add does not wait behind them). Supports per-operation
    /// cancellation (terminal, partial, total) through a bound slot: cancelled before it is accepted,
    /// it completes with operation_aborted and the transfer is never started (its on_done is never
    /// called); once accepted, cancel the transfer with cancel(id). cancel(id) and stop() abort waiting
    /// ones too, the same way.
    template <typename CompletionToken>
    auto async_add(transfer t, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, id)>(
            [](auto handler, const std::shared_ptr<detail::multi_state>& state, transfer tr) {
                detail::multi_async_add(state, std::move(tr), std::move(handler));
            },
            token, state_, std::move(t));
    }
    /// Cancels one transfer: its on_done gets operation_aborted (one still waiting in async_add: that
    /// completes with operation_aborted). False when it already finished.
    bool cancel(id transfer_id);
    /// Cancels every transfer of this multi, those waiting in async_add included.
    void stop();
    /// Transfers added and not yet done.
    std::size_t running() const noexcept;
    /// Transfers waiting in async_add for room in the queue.
    std::size_t waiting_to_add() const noexcept;

    /// Completes with `void(error_code)` once no transfer is running and none waits in async_add (at
    /// once, though never inline, when none is). Supports per-operation cancellation (terminal, partial,
    /// total) through a bound slot: the wait completes with operation_aborted (posted, never inside the
    /// emit), the transfers go on.
    template <typename CompletionToken>
    auto async_wait_all(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [](auto handler, const std::shared_ptr<detail::multi_state>& state) {
                detail::multi_wait_all(state, std::move(handler));
            },
            token, state_);
    }

private:
    std::shared_ptr<detail::multi_state> state_;
};

} // namespace edgeloop::http
