#pragma once

#include <edgeloop/gpio/edge_event.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace edgeloop::gpio {

namespace detail {
using edge_handler = boost::asio::any_completion_handler<void(boost::system::error_code, edge_event)>;
} // namespace detail

/// An input line (a button) whose edges a driver reports as they happen: nothing polls.
///
/// Edges that arrive while nobody waits are queued (up to queue_limit, then the oldest is dropped and
/// counted in the next event's `lost`), so a wait re-armed after handling one press never misses the
/// next. Use an input from its executor only.
///
/// Drivers derive from it and call deliver() (and set_level() after re-reading the line).
class input {
public:
    using executor_type = boost::asio::any_io_executor;
    static constexpr std::size_t queue_limit = 64;

    input(const input&) = delete;
    input& operator=(const input&) = delete;
    /// A pending wait completes with operation_aborted.
    virtual ~input();

    executor_type get_executor() const noexcept { return ex_; }
    /// The logical name (BUTTON_A).
    const std::string& name() const noexcept { return name_; }
    /// Logical level as last known: true while pressed.
    bool active() const noexcept { return active_; }
    /// Events lost so far (kernel buffer overflows and queue overflows).
    std::uint64_t lost_events() const noexcept { return lost_; }
    bool is_closed() const noexcept { return closed_; }

    /// Waits for the next edge (the oldest queued one, if any).
    ///
    /// Completes with `void(error_code, edge_event)`: success and the edge; operation_aborted after
    /// cancel() or a cancellation of type terminal, partial or total on the bound slot (queued edges are
    /// kept for the next wait); gpio::error::closed once the input is closed; gpio::error::wait_pending
    /// if another wait is already pending. Never completes inside the initiating call.
    template <typename CompletionToken>
    auto async_wait_edge(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, edge_event)>(
            [](auto handler, input* self) { self->start_wait(std::move(handler), false); }, token, this);
    }

    /// As async_wait_edge, but completes with the next press (rising edge) only: releases queued or
    /// arriving before it are consumed and discarded.
    template <typename CompletionToken>
    auto async_wait_press(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, edge_event)>(
            [](auto handler, input* self) { self->start_wait(std::move(handler), true); }, token, this);
    }

    /// Completes a pending wait with operation_aborted. Edges keep being queued.
    void cancel();

    /// Stops the driver's source and completes the pending wait, and every later one, with
    /// gpio::error::closed. Queued edges are discarded.
    void close();

protected:
    input(executor_type ex, std::string name, bool initially_active);

    /// Hands an edge to the pending wait or queues it; updates active(). Call on the executor.
    void deliver(const edge_event& e);
    /// Corrects active() after the driver re-read the line (lost events).
    void set_level(bool active) noexcept { active_ = active; }
    /// Counts `n` events the driver lost that no edge delivered now carries in its `lost` (a debouncer
    /// between the driver and the input holds them until its next clean edge, which may never come):
    /// added to lost_events() at once, and to the `lost` of the next edge delivered.
    void add_lost(std::uint64_t n) noexcept;
    /// Closes the input from the driver's side (its source ended or failed).
    void close_from_source();
    /// The driver stops reading its source. Called once, by close().
    virtual void close_source() {}

private:
    struct waiter {
        detail::edge_handler handler;
        bool presses_only = false;
        /// Keeps the handler's executor busy while the wait is pending, as Asio's own objects do.
        boost::asio::any_completion_executor work;
    };

    void start_wait(detail::edge_handler handler, bool presses_only);
    void drop_leading_releases();
    void complete(const boost::system::error_code& ec, const edge_event& e);

    executor_type ex_;
    std::string name_;
    bool active_ = false;
    bool closed_ = false;
    std::uint64_t lost_ = 0;
    /// Counted by add_lost() and not yet carried by a delivered edge.
    std::uint64_t lost_pending_ = 0;
    std::deque<edge_event> queue_;
    std::optional<waiter> waiter_;
};

} // namespace edgeloop::gpio
