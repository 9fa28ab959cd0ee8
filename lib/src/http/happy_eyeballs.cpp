#include "happy_eyeballs.hpp"
#include "socket_options.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace edgeloop::http::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

connect_race::connect_race(net::any_io_executor ex, std::vector<endpoint> order,
                           std::chrono::milliseconds delay, std::chrono::milliseconds budget,
                           std::string source)
    : ex_(std::move(ex))
    , order_(std::move(order))
    , delay_(delay)
    , budget_end_(std::chrono::steady_clock::now() + budget)
    , bounded_(budget.count() > 0)
    , source_(std::move(source))
    , next_(ex_) {
    attempts_.reserve(order_.size());
}

void connect_race::start(done_handler done) {
    done_ = std::move(done);
    if (order_.empty()) {
        detail_ = "no address to connect to";
        net::post(ex_, [self = shared_from_this()] { self->finish(net::error::host_not_found, 0); });
        return;
    }
    start_next();
}

void connect_race::cancel() {
    done_ = nullptr;
    next_.cancel();
    for (auto& a : attempts_) {
        error_code ignored;
        a->socket.close(ignored);
        a->deadline.cancel();
    }
}

void connect_race::start_next() {
    if (!done_ || attempts_.size() >= order_.size())
        return;
    const std::size_t i = attempts_.size();
    attempts_.push_back(std::make_unique<attempt>(ex_));
    attempt& a = *attempts_.back();
    if (const auto ec = bind_source(a.socket, order_[i], source_, a.note)) {
        net::post(ex_, [self = shared_from_this(), i, ec] { self->on_attempt(i, ec); });
        return; // the next one starts when this one is told failed
    }
    a.socket.async_connect(order_[i],
                           [self = shared_from_this(), i](const error_code& ec) { self->on_attempt(i, ec); });
    if (bounded_) {
        const auto now = std::chrono::steady_clock::now();
        const auto left = budget_end_ > now ? budget_end_ - now : std::chrono::steady_clock::duration::zero();
        a.deadline.expires_after(i + 1 < order_.size() ? left / 2 : left);
        a.deadline.async_wait([self = shared_from_this(), i](const error_code& ec) {
            attempt& t = *self->attempts_[i];
            if (ec || t.finished)
                return;
            t.timed_out = true;
            error_code ignored;
            t.socket.close(ignored); // its connect completes with operation_aborted
        });
    }
    if (delay_.count() > 0 && i + 1 < order_.size()) {
        next_.expires_after(delay_);
        next_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec)
                self->start_next();
        });
    }
}

void connect_race::on_attempt(std::size_t i, const error_code& ec) {
    attempt& a = *attempts_[i];
    a.finished = true;
    a.deadline.cancel();
    if (!done_)
        return; // cancelled, or another attempt won
    if (!ec)
        return finish(ec, i);
    if (!detail_.empty())
        detail_ += "; ";
    const auto& ep = order_[i];
    detail_ += (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
               ":" + std::to_string(ep.port()) + ": ";
    ++failed_;
    if (a.timed_out) {
        ++timed_out_;
        detail_ += "no answer within its connect deadline";
    } else {
        if (ec == net::error::connection_refused)
            ++refused_;
        last_error_ = ec;
        detail_ += a.note.empty() ? ec.message() : a.note;
    }
    if (failed_ == order_.size()) {
        const error_code summary = refused_ == failed_ ? error_code(net::error::connection_refused)
                                   : timed_out_ + refused_ == failed_ ? error_code(net::error::timed_out)
                                                                      : last_error_;
        return finish(summary, i);
    }
    // Every attempt started so far has failed: the next one need not wait for the delay.
    if (failed_ == attempts_.size()) {
        next_.cancel();
        start_next();
    }
}

namespace {

std::string text(const tcp::endpoint& ep) {
    return (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) + ":" +
           std::to_string(ep.port());
}

} // namespace

std::string connect_race::describe() const {
    std::string out = detail_;
    for (std::size_t i = 0; i < attempts_.size(); ++i)
        if (!attempts_[i]->finished)
            out += (out.empty() ? "" : "; ") + text(order_[i]) + ": no answer yet";
    return out;
}

void connect_race::finish(const error_code& ec, std::size_t winner) {
    auto done = std::move(done_);
    done_ = nullptr;
    next_.cancel();
    for (std::size_t j = 0; j < attempts_.size(); ++j) {
        if (j == winner && !ec)
            continue;
        error_code ignored;
        attempts_[j]->socket.close(ignored);
        attempts_[j]->deadline.cancel();
    }
    if (!done)
        return;
    if (ec)
        done(ec, nullptr, nullptr);
    else
        done(ec, &attempts_[winner]->socket, &order_[winner]);
}

} // namespace edgeloop::http::detail
