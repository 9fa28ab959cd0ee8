#include <edgeloop/core/log.hpp>
#include <edgeloop/core/reactor.hpp>

#include <boost/asio/post.hpp>

#include <csignal>
#include <string>

namespace edgeloop::core {

namespace net = boost::asio;

reactor::reactor(std::chrono::milliseconds stop_deadline)
    : ctx_(1) // one thread runs the loop: Asio then queues work posted on it without taking its lock
    , signals_(ctx_, SIGINT, SIGTERM)
    , stop_deadline_(stop_deadline) {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (!ec)
            begin_stop(signal);
    });
}

reactor::~reactor() = default;

void reactor::on_stop(std::function<void()> handler) {
    stop_handlers_.push_back(std::move(handler));
}

std::size_t reactor::run() {
    std::size_t n = ctx_.run();
    if (drain_pending_) {
        // begin_stop() interrupted run() so that the rest runs against the stop deadline.
        drain_pending_ = false;
        ctx_.restart();
        n += ctx_.run_until(stop_started_ + stop_deadline_);
        if (!ctx_.stopped()) {
            forced_ = true;
            log::write(log_level::warn, "operations still running at the stop deadline: stopping now");
            ctx_.stop();
        }
    }
    return n;
}

void reactor::stop() {
    net::post(ctx_, [this] { begin_stop(0); });
}

void reactor::begin_stop(int signal) {
    if (stopping_)
        return;
    stopping_ = true;
    stop_signal_ = signal;
    stop_started_ = clock::now();
    if (signal)
        log::write(log_level::info, "signal " + std::to_string(signal) + ": stopping");
    // Removing our registrations gives SIGINT/SIGTERM back their default action: a second one ends the
    // process even if something refuses to stop.
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    signals_.clear(ignored);
    auto handlers = std::move(stop_handlers_);
    stop_handlers_.clear();
    for (auto& h : handlers)
        h();
    drain_pending_ = true;
    ctx_.stop();
}

} // namespace edgeloop::core
