#pragma once

#include <edgeloop/core/asio_config.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace edgeloop::core {

/// Owns the io_context that everything of an application runs on.
///
/// SIGINT and SIGTERM start a graceful stop: every handler registered with on_stop() runs once (each
/// cancels its running operations, which then complete with operation_aborted), and the loop is left to
/// drain. If it has not drained when the stop deadline passes, run() stops it by force. After the first
/// signal the default disposition of SIGINT/SIGTERM is restored, so a second signal ends the process.
///
/// While the reactor waits for signals the loop always has work: an application whose work is done calls
/// stop() (nothing left to cancel, so run() returns at once).
///
/// One thread runs the loop (the one calling run()); any thread may post work to it (board drivers do).
/// The io_context is made with concurrency hint 1, which lets Asio skip its lock for work posted from
/// the loop's own thread. An application that wants several threads on one loop makes its own io_context.
class reactor {
public:
    using clock = std::chrono::steady_clock;

    explicit reactor(std::chrono::milliseconds stop_deadline = std::chrono::seconds(5));
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;
    ~reactor();

    boost::asio::io_context& context() noexcept { return ctx_; }
    boost::asio::io_context::executor_type executor() noexcept { return ctx_.get_executor(); }

    /// Registers a handler run (on the loop) when a graceful stop begins.
    void on_stop(std::function<void()> handler);

    /// Runs the loop until a stop has drained it (or the deadline forced it). Returns handlers run.
    std::size_t run();

    /// Begins a graceful stop, as SIGTERM does. Safe to call from any thread.
    void stop();

    /// True once a graceful stop has begun (by signal or stop()).
    bool stopping() const noexcept { return stopping_; }
    /// The signal that began the stop, 0 if none.
    int stop_signal() const noexcept { return stop_signal_; }
    /// True when the stop deadline passed before the loop drained.
    bool forced() const noexcept { return forced_; }

private:
    void wait_signal();
    void begin_stop(int signal);

    boost::asio::io_context ctx_;
    boost::asio::signal_set signals_;
    std::chrono::milliseconds stop_deadline_;
    clock::time_point stop_started_{};
    std::vector<std::function<void()>> stop_handlers_;
    bool stopping_ = false;
    bool drain_pending_ = false;
    bool forced_ = false;
    int stop_signal_ = 0;
};

} // namespace edgeloop::core
