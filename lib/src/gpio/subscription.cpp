#include <edgeloop/gpio/subscription.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

namespace edgeloop::gpio {

namespace net = boost::asio;

namespace detail {

struct subscription_state : std::enable_shared_from_this<subscription_state> {
    subscription_state(input& i, std::function<void(const edge_event&)> h, bool p)
        : in(&i)
        , handler(std::move(h))
        , presses_only(p) {}

    void arm() {
        auto on_edge = net::bind_cancellation_slot(
            signal.slot(), [self = shared_from_this()](boost::system::error_code ec, edge_event e) {
                // Any error ends the loop: cancelled, or the input closed or destroyed (after which `in`
                // must not be touched again).
                if (ec || self->stopped) {
                    self->stopped = true;
                    return;
                }
                self->handler(e);
                if (!self->stopped)
                    self->arm();
            });
        if (presses_only)
            in->async_wait_press(std::move(on_edge));
        else
            in->async_wait_edge(std::move(on_edge));
    }

    void cancel() noexcept {
        stopped = true;
        // Reaches the input only while a wait is pending: a completed wait has cleared the slot.
        signal.emit(net::cancellation_type::terminal);
    }

    input* in;
    std::function<void(const edge_event&)> handler;
    bool presses_only;
    bool stopped = false;
    net::cancellation_signal signal;
};

} // namespace detail

subscription& subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
    }
    return *this;
}

subscription::~subscription() {
    cancel();
}

void subscription::cancel() noexcept {
    if (state_)
        state_->cancel();
}

bool subscription::active() const noexcept {
    return state_ && !state_->stopped;
}

subscription subscribe(input& in, std::function<void(const edge_event&)> handler, bool presses_only) {
    auto state = std::make_shared<detail::subscription_state>(in, std::move(handler), presses_only);
    state->arm();
    return subscription(std::move(state));
}

} // namespace edgeloop::gpio
