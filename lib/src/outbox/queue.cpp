// The outbox on the loop: a store on a worker thread, a drain state machine on the executor.

#include <edgeloop/outbox/error.hpp>
#include <edgeloop/outbox/queue.hpp>
#include <edgeloop/retry/backoff.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <optional>

namespace edgeloop::outbox {

namespace net = boost::asio;
using clock = std::chrono::system_clock;

struct queue::impl : std::enable_shared_from_this<impl> {
    impl(net::any_io_executor ex, options o)
        : executor(std::move(ex))
        , opts(std::move(o))
        , timer(executor)
        , backoff(opts.backoff) {}

    net::any_io_executor executor;
    options opts;
    store db; ///< touched on the worker only, once open
    net::thread_pool* worker = nullptr;
    net::steady_timer timer;
    retry::backoff backoff;
    queue* owner = nullptr; ///< null once the queue is destroyed
    sender send;
    bool draining = false;
    bool busy = false; ///< a step of the drain is under way (fetch, send, commit or wait)
    bool is_idle = false;
    std::uint64_t generation = 0; ///< bumped by stop(): outcomes of an earlier drain are ignored
    std::optional<net::steady_timer::time_point> next_send;

    /// Runs `work` on the worker, then `then(result)` on the executor (unless the queue is gone).
    template <class Work, class Then>
    void on_worker(Work work, Then then) {
        // The work guard keeps the loop's run() from returning while the worker holds a result for it.
        net::post(*worker, [self = shared_from_this(), guard = net::make_work_guard(executor),
                            work = std::move(work), then = std::move(then)]() mutable {
            auto r = work(self->db);
            net::post(self->executor, [self, r = std::move(r), then = std::move(then)]() mutable {
                if (self->owner)
                    then(std::move(r));
            });
        });
    }

    void report_error(const boost::system::error_code& ec, const std::string& detail) {
        if (owner && owner->on_error)
            owner->on_error(ec, detail);
    }

    void pump() {
        if (!draining || busy)
            return;
        busy = true;
        const auto gen = generation;
        struct fetched {
            boost::system::error_code ec;
            std::string detail;
            std::uint64_t expired = 0;
            std::optional<message> head;
        };
        on_worker(
            [](store& s) {
                fetched f;
                auto n = s.expire(clock::now());
                if (!n) {
                    f.ec = n.error();
                    f.detail = s.last_error();
                    return f;
                }
                f.expired = *n;
                auto head = s.front();
                if (!head) {
                    f.ec = head.error();
                    f.detail = s.last_error();
                } else {
                    f.head = std::move(*head);
                }
                return f;
            },
            [this, gen](fetched f) {
                if (gen != generation)
                    return;
                if (f.expired && owner->on_expired)
                    owner->on_expired(f.expired);
                if (f.ec) {
                    report_error(f.ec, f.detail);
                    wait_then(opts.backoff.max, [this] { pump(); });
                    return;
                }
                if (!f.head) {
                    busy = false;
                    is_idle = true;
                    if (owner->on_idle)
                        owner->on_idle();
                    return;
                }
                is_idle = false;
                send_head(std::make_shared<message>(std::move(*f.head)));
            });
    }

    /// Waits on the timer, then runs `next` (unless stopped meanwhile).
    template <class Next>
    void wait_then(std::chrono::steady_clock::duration d, Next next) {
        timer.expires_after(d);
        const auto gen = generation;
        timer.async_wait(
            [self = shared_from_this(), gen, next = std::move(next)](boost::system::error_code ec) {
                if (ec || !self->owner || gen != self->generation)
                    return;
                next();
            });
    }

    void send_head(std::shared_ptr<message> m) {
        // Rate limit: sends start at least 1/max_rate apart.
        if (opts.max_rate > 0) {
            const auto now = std::chrono::steady_clock::now();
            if (next_send && *next_send > now) {
                wait_then(*next_send - now, [this, m] {
                    next_send.reset();
                    send_head(m);
                });
                return;
            }
            next_send = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(1.0 / opts.max_rate));
        }
        const auto gen = generation;
        send(*m, [self = shared_from_this(), m, gen](outcome o) {
            // Completed through the executor: the sender may call done inside send().
            net::post(self->executor, [self, m, gen, o = std::move(o)]() mutable {
                if (!self->owner || gen != self->generation)
                    return; // stopped: the message stays queued
                self->settle(m, std::move(o));
            });
        });
    }

    /// After the head message was removed or moved to the dead letters: a store error is reported and the
    /// drain resumes after the backoff's maximum; otherwise `settled` (the owner's hook) runs, then the next
    /// message goes. `busy` stays set while the hooks run.
    template <class Settled>
    void after_store(const std::pair<boost::system::error_code, std::string>& r, Settled settled) {
        if (r.first) {
            report_error(r.first, r.second);
            busy = false;
            wait_then(opts.backoff.max, [this] { pump(); });
            return;
        }
        settled();
        busy = false;
        pump();
    }

    void settle(std::shared_ptr<message> m, outcome o) {
        switch (decide(o)) {
        case action::remove:
            on_worker([seq = m->seq](store& s) { return std::make_pair(s.remove(seq), s.last_error()); },
                      [this, m, o](std::pair<boost::system::error_code, std::string> r) {
                          after_store(r, [&] {
                              backoff.reset();
                              if (owner->on_delivered)
                                  owner->on_delivered(*m, o);
                          });
                      });
            return;
        case action::dead_letter:
            on_worker(
                [seq = m->seq, o](store& s) {
                    return std::make_pair(
                        s.move_to_dead_letters(seq, o.status, o.reason.empty() ? o.error.message() : o.reason,
                                               clock::now()),
                        s.last_error());
                },
                [this, m, o](std::pair<boost::system::error_code, std::string> r) {
                    after_store(r, [&] {
                        if (owner->on_dead_letter)
                            owner->on_dead_letter(*m, o);
                    });
                });
            return;
        case action::retry:
            break;
        }
        const auto reason = o.reason.empty() ? o.error.message() : o.reason;
        on_worker([seq = m->seq, reason](store& s) { return s.record_failure(seq, reason); },
                  [this, m, o](boost::system::error_code) {
                      // A failure to count the attempt changes nothing about the retry itself.
                      auto delay = backoff.next_backoff(o.retry_after).value_or(opts.backoff.max);
                      if (owner->on_retry)
                          owner->on_retry(*m, o, delay);
                      wait_then(delay, [this] {
                          busy = false;
                          pump();
                      });
                  });
    }
};

queue::queue(net::any_io_executor ex, options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {
    impl_->owner = this;
    impl_->backoff.set_max_retry_after(impl_->opts.backoff.max);
}

queue::~queue() {
    impl_->owner = nullptr;
    impl_->draining = false;
    ++impl_->generation;
    impl_->timer.cancel();
    if (impl_->worker) {
        impl_->worker->join();
        delete impl_->worker;
        impl_->worker = nullptr;
    }
}

boost::system::error_code queue::open(open_report& report) {
    if (auto ec = impl_->db.open(impl_->opts, report))
        return ec;
    if (!impl_->worker)
        impl_->worker = new net::thread_pool(1);
    return {};
}

void queue::enqueue_impl(const message& m,
                         net::any_completion_handler<void(boost::system::error_code, std::string)> handler) {
    if (!impl_->worker) {
        net::post(impl_->executor,
                  [h = std::move(handler)]() mutable { std::move(h)(error::closed, std::string()); });
        return;
    }
    auto self = impl_;
    net::post(*impl_->worker, [self, guard = net::make_work_guard(impl_->executor), m = message(m),
                               h = std::move(handler)]() mutable {
        auto r = self->db.enqueue(m, clock::now());
        boost::system::error_code ec = r ? boost::system::error_code() : r.error();
        net::post(self->executor, [self, ec, id = std::move(m.id), h = std::move(h)]() mutable {
            if (!ec && self->owner && self->is_idle) {
                self->is_idle = false;
                self->busy = false;
                self->pump();
            }
            std::move(h)(ec, std::move(id));
        });
    });
}

void queue::stats_impl(net::any_completion_handler<void(boost::system::error_code, stats)> handler) {
    if (!impl_->worker) {
        net::post(impl_->executor,
                  [h = std::move(handler)]() mutable { std::move(h)(error::closed, stats{}); });
        return;
    }
    auto self = impl_;
    net::post(*impl_->worker,
              [self, guard = net::make_work_guard(impl_->executor), h = std::move(handler)]() mutable {
                  auto r = self->db.statistics();
                  net::post(self->executor, [r = std::move(r), h = std::move(h)]() mutable {
                      if (r)
                          std::move(h)(boost::system::error_code(), *r);
                      else
                          std::move(h)(r.error(), stats{});
                  });
              });
}

void queue::start(sender send) {
    impl_->send = std::move(send);
    impl_->draining = true;
    impl_->busy = false;
    impl_->is_idle = false;
    impl_->pump();
}

void queue::stop() {
    impl_->draining = false;
    impl_->busy = false;
    ++impl_->generation;
    impl_->timer.cancel();
}

bool queue::idle() const noexcept {
    return impl_->is_idle;
}

} // namespace edgeloop::outbox
