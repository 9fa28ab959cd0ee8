#include <edgeloop/gpio/error.hpp>
#include <edgeloop/gpio/input.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <utility>

namespace edgeloop::gpio {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

/// Runs the handler later, never inside the caller: first on the input's executor, then on the
/// handler's own (the usual shape of an Asio completion that must not be immediate).
void post_completion(const input::executor_type& ex, detail::edge_handler handler, error_code ec,
                     edge_event e) {
    net::post(ex, [ex, h = std::move(handler), ec, e]() mutable {
        auto handler_ex = net::get_associated_executor(h, ex);
        net::dispatch(handler_ex, [h = std::move(h), ec, e]() mutable { std::move(h)(ec, e); });
    });
}

} // namespace

input::input(executor_type ex, std::string name, bool initially_active)
    : ex_(std::move(ex))
    , name_(std::move(name))
    , active_(initially_active) {}

input::~input() {
    if (waiter_)
        complete(net::error::operation_aborted, {});
}

void input::start_wait(detail::edge_handler handler, bool presses_only) {
    if (waiter_ || closed_) {
        // Not the pending waiter's business: this one fails on its own, never inline.
        const error_code ec = closed_ ? error_code(error::closed) : error_code(error::wait_pending);
        post_completion(ex_, std::move(handler), ec, edge_event{});
        return;
    }
    auto work =
        net::prefer(net::get_associated_executor(handler, ex_), net::execution::outstanding_work.tracked);
    waiter_.emplace(waiter{std::move(handler), presses_only, std::move(work)});
    auto slot = net::get_associated_cancellation_slot(waiter_->handler);
    if (slot.is_connected())
        slot.assign([this](net::cancellation_type) { cancel(); });
    drop_leading_releases();
    if (!queue_.empty()) {
        const edge_event e = queue_.front();
        queue_.pop_front();
        complete({}, e);
    }
}

void input::drop_leading_releases() {
    if (!waiter_ || !waiter_->presses_only)
        return;
    while (!queue_.empty() && !queue_.front().pressed()) {
        const std::uint64_t lost = queue_.front().lost;
        queue_.pop_front();
        // What was lost before a discarded release was still lost before the press that follows.
        if (!queue_.empty())
            queue_.front().lost += lost;
    }
}

void input::add_lost(std::uint64_t n) noexcept {
    if (closed_)
        return;
    lost_ += n;
    lost_pending_ += n;
}

void input::deliver(const edge_event& event) {
    if (closed_)
        return;
    active_ = event.pressed();
    lost_ += event.lost;
    edge_event e = event;
    e.lost += std::exchange(lost_pending_, 0); // counted in lost_ already
    if (waiter_ && queue_.empty()) {
        if (waiter_->presses_only && !e.pressed()) {
            // What was lost before a discarded release was still lost before the press that follows.
            lost_pending_ += e.lost;
            return;
        }
        return complete({}, e);
    }
    if (queue_.size() == queue_limit) {
        const std::uint64_t lost = queue_.front().lost + 1;
        queue_.pop_front();
        ++lost_;
        queue_.front().lost += lost;
    }
    queue_.push_back(e);
}

void input::cancel() {
    if (waiter_)
        complete(net::error::operation_aborted, {});
}

void input::close() {
    if (closed_)
        return;
    closed_ = true;
    queue_.clear();
    close_source();
    if (waiter_)
        complete(error::closed, {});
}

void input::close_from_source() {
    close();
}

void input::complete(const error_code& ec, const edge_event& e) {
    waiter w = std::move(*waiter_);
    waiter_.reset();
    auto slot = net::get_associated_cancellation_slot(w.handler);
    if (slot.is_connected())
        slot.clear();
    // The posted completion is itself outstanding work, so the guard in w.work may go after this.
    post_completion(ex_, std::move(w.handler), ec, e);
}

} // namespace edgeloop::gpio
