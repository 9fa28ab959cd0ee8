#pragma once

#include <edgeloop/outbox/dead_letter.hpp>
#include <edgeloop/outbox/delivery.hpp>
#include <edgeloop/outbox/message.hpp>
#include <edgeloop/outbox/options.hpp>
#include <edgeloop/outbox/stats.hpp>
#include <edgeloop/outbox/store.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace edgeloop::outbox {

/// A durable outbox on the loop: enqueue from anywhere on the loop, drain continuously through a sender
/// the application supplies (publish over its http::client, say).
///
/// SQLite runs on a dedicated worker thread, never on the loop: a commit with synchronous=FULL waits for
/// fsync, milliseconds on a good disk and much longer on SD cards or busy flash, which would stall every
/// timer and socket of the loop. Results are posted back to the queue's executor, where every callback
/// and completion runs. Use the queue from its executor only (not thread-safe).
///
/// Delivery: the head message is sent (one at a time, so the enqueue order holds for every topic and
/// across topics), removed only after the sender reports success, retried after a full-jitter backoff
/// (options::backoff, forever by default) while decide() says retry, moved to the dead letters when it
/// says dead_letter. At least once: a message whose success was not yet committed when the process
/// died is sent again.
class queue {
public:
    /// Reports the outcome of one send; call it exactly once, on the queue's executor.
    using done_handler = std::function<void(outcome)>;
    /// Sends one message. The message (and its id) stays valid until `done` is called.
    using sender = std::function<void(const message&, done_handler done)>;

    queue(boost::asio::any_io_executor ex, options opts);
    ~queue();
    queue(const queue&) = delete;
    queue& operator=(const queue&) = delete;

    /// Opens the database (synchronously, on the calling thread: call it before draining, at start-up).
    /// See store::open for what `report` may say.
    boost::system::error_code open(open_report& report);

    /// Appends `m`; completes with (error, id) once the commit is done (durable with durability::full).
    /// Signature void(error_code, std::string id). Not cancellable: once handed to the worker, the
    /// enqueue commits or fails. Build the message before a co_await (GCC 12 destroys a braced
    /// temporary inside co_await twice).
    template <class CompletionToken>
    auto async_enqueue(const message& m, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, std::string)>(
            [this](auto handler, const message& msg) {
                enqueue_impl(
                    msg, boost::asio::any_completion_handler<void(boost::system::error_code, std::string)>(
                             std::move(handler)));
            },
            token, m);
    }

    /// The queue's figures, read on the worker. Signature void(error_code, stats).
    template <class CompletionToken>
    auto async_stats(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, stats)>(
            [this](auto handler) {
                stats_impl(boost::asio::any_completion_handler<void(boost::system::error_code, stats)>(
                    std::move(handler)));
            },
            token);
    }

    /// Starts draining through `send` (leftovers of an earlier run first). Events below report progress.
    void start(sender send);
    /// Stops draining at once: the backoff or rate-limit wait is cancelled, an outcome that arrives later
    /// is ignored (the message stays queued: sent again next time). Enqueues still work.
    void stop();
    /// True while nothing is queued and nothing is being sent (the drain found the queue empty).
    bool idle() const noexcept;

    // Events, all on the executor; each may be left empty.
    std::function<void(const message&, const outcome&)> on_delivered;
    std::function<void(const message&, const outcome&)> on_dead_letter;
    std::function<void(const message&, const outcome&, std::chrono::milliseconds delay)> on_retry;
    /// A database failure while draining (it is retried after options::backoff's maximum window).
    std::function<void(const boost::system::error_code&, const std::string& detail)> on_error;
    /// The queue became empty (drained, nothing more to send).
    std::function<void()> on_idle;
    /// Messages moved to the dead letters by the TTL (count), as the drain found them.
    std::function<void(std::uint64_t)> on_expired;

    struct impl;

private:
    void
    enqueue_impl(const message& m,
                 boost::asio::any_completion_handler<void(boost::system::error_code, std::string)> handler);
    void stats_impl(boost::asio::any_completion_handler<void(boost::system::error_code, stats)> handler);

    std::shared_ptr<impl> impl_;
};

} // namespace edgeloop::outbox
