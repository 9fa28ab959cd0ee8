#include <edgeloop/retry/async_retry.hpp>
#include <edgeloop/retry/backoff.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace edgeloop::retry::detail {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

/// One async_retry. Lives in shared_ptrs held by the pending attempt handler or timer wait; completes its
/// handler exactly once (complete()).
class retry_op : public std::enable_shared_from_this<retry_op> {
public:
    retry_op(net::any_io_executor ex, policy p, retry_options opts, operation op, retry_handler handler)
        : ex_(std::move(ex))
        , backoff_(p, opts.random ? std::move(opts.random) : default_random_source())
        , opts_(std::move(opts))
        , op_(std::move(op))
        , handler_(std::move(handler))
        , timer_(ex_) {
        if (opts_.max_retry_after)
            backoff_.set_max_retry_after(*opts_.max_retry_after);
    }

    void start() {
        // Connected during initiation, as Asio's own operations do, so that a cancellation emitted before
        // the first attempt runs is not lost.
        auto slot = net::get_associated_cancellation_slot(handler_);
        if (slot.is_connected())
            slot.assign([weak = weak_from_this()](net::cancellation_type type) {
                if (auto self = weak.lock())
                    self->cancel(type);
            });
        // Never run the operation (or complete) inside the initiating call.
        net::post(ex_, [self = shared_from_this()] { self->attempt(); });
    }

private:
    void cancel(net::cancellation_type type) {
        if (done_ || (type & (net::cancellation_type::terminal | net::cancellation_type::partial |
                              net::cancellation_type::total)) == net::cancellation_type::none)
            return;
        cancelled_ = true;
        if (waiting_)
            timer_.cancel();
        else if (in_attempt_)
            attempt_signal_.emit(type);
        // Otherwise the first attempt is still queued; attempt() sees the flag.
    }

    void attempt() {
        if (cancelled_)
            return complete(net::error::operation_aborted);
        ++result_.attempts;
        in_attempt_ = true;
        op_(attempt_handler(net::bind_cancellation_slot(
            attempt_signal_.slot(), net::bind_executor(ex_, [self = shared_from_this()](error_code ec) {
                self->attempt_done(ec);
            }))));
    }

    bool retryable(const error_code& ec) const {
        if (opts_.retryable)
            return opts_.retryable(ec);
        return ec != net::error::operation_aborted;
    }

    void attempt_done(const error_code& ec) {
        in_attempt_ = false;
        if (!ec)
            return complete({});
        result_.last_error = ec;
        if (cancelled_)
            return complete(net::error::operation_aborted);
        if (!retryable(ec))
            return complete(ec);
        std::optional<std::chrono::milliseconds> server_delay;
        if (opts_.retry_after)
            server_delay = opts_.retry_after(ec);
        const auto delay = backoff_.next_backoff(server_delay);
        if (!delay)
            return complete(error::retries_exhausted);
        result_.delays.push_back(*delay);
        if (opts_.on_retry)
            opts_.on_retry(result_.attempts, *delay, ec);
        // The hook may have cancelled us.
        if (cancelled_)
            return complete(net::error::operation_aborted);
        waiting_ = true;
        timer_.expires_after(*delay);
        timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
            self->waiting_ = false;
            // A wait that expired before the cancel could reach it still reports success: check the flag.
            if (wait_ec || self->cancelled_)
                return self->complete(net::error::operation_aborted);
            self->attempt();
        });
    }

    void complete(const error_code& ec) {
        if (done_)
            return;
        done_ = true;
        auto slot = net::get_associated_cancellation_slot(handler_);
        if (slot.is_connected())
            slot.clear();
        // Posted (then dispatched to the handler's executor), never run here: complete() may run inside the
        // caller's cancellation (an attempt that completes inside its own cancel), where the handler must not
        // run (Asio's rule; a coroutine resumed there could end the frame that owns the signal being
        // emitted).
        auto ex = net::get_associated_executor(handler_, ex_);
        net::post(ex_, [ex, h = std::move(handler_), ec, r = std::move(result_)]() mutable {
            net::dispatch(
                ex, [h = std::move(h), ec, r = std::move(r)]() mutable { std::move(h)(ec, std::move(r)); });
        });
    }

    net::any_io_executor ex_;
    backoff backoff_;
    retry_options opts_;
    operation op_;
    retry_handler handler_;
    net::steady_timer timer_;
    net::cancellation_signal attempt_signal_;
    result result_;
    bool in_attempt_ = false;
    bool waiting_ = false;
    bool cancelled_ = false;
    bool done_ = false;
};

} // namespace

void start_retry(net::any_io_executor ex, policy p, retry_options opts, operation op, retry_handler handler) {
    std::make_shared<retry_op>(std::move(ex), p, std::move(opts), std::move(op), std::move(handler))->start();
}

} // namespace edgeloop::retry::detail
