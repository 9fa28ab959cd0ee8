#pragma once

#include <edgeloop/gpio/edge_event.hpp>
#include <edgeloop/gpio/input.hpp>

#include <functional>
#include <memory>

namespace edgeloop::gpio {

namespace detail {
struct subscription_state;
} // namespace detail

/// Handle of a subscribe() loop: destroying it, or cancel(), ends the loop.
class subscription {
public:
    subscription() = default;
    subscription(subscription&&) noexcept = default;
    subscription& operator=(subscription&& other) noexcept;
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription();

    /// Ends the loop: the handler is not called again.
    void cancel() noexcept;
    /// True until cancelled or until the input was closed or destroyed.
    bool active() const noexcept;

private:
    friend subscription subscribe(input& in, std::function<void(const edge_event&)> handler,
                                  bool presses_only);
    explicit subscription(std::shared_ptr<detail::subscription_state> state) noexcept
        : state_(std::move(state)) {}

    std::shared_ptr<detail::subscription_state> state_;
};

/// Calls `handler` on the input's executor for every edge of `in` (only presses when `presses_only`),
/// one at a time, until the subscription is cancelled or destroyed or the input is closed or destroyed.
/// It keeps one async_wait_edge pending on the input, so the input must not be waited on otherwise.
subscription subscribe(input& in, std::function<void(const edge_event&)> handler, bool presses_only = false);

} // namespace edgeloop::gpio
