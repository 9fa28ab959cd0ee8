#include <edgeloop/http/multi.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <map>
#include <vector>

namespace edgeloop::http {

namespace net = boost::asio;

namespace detail {

struct multi_state {
    explicit multi_state(client& c)
        : cl(&c) {}

    client* cl;
    multi::id next_id = 1;
    struct entry {
        net::cancellation_signal signal; ///< in the map node itself: nodes never move
        bool done = false;               ///< completed; erased once the completion has fully unwound
    };
    std::map<multi::id, entry> running;
    using wait_handler = net::any_completion_handler<void(boost::system::error_code)>;
    std::uint64_t next_waiter = 1;
    std::map<std::uint64_t, wait_handler> waiters;

    /// Completes a wait (posted: never inside the call that ended it).
    void finish_wait(wait_handler w, boost::system::error_code ec) {
        auto slot = net::get_associated_cancellation_slot(w);
        if (slot.is_connected())
            slot.clear();
        net::post(cl->get_executor(), net::append(std::move(w), ec));
    }

    void notify_if_idle() {
        if (!running.empty())
            return;
        auto ready = std::move(waiters);
        waiters.clear();
        for (auto& [wid, w] : ready)
            finish_wait(std::move(w), {});
    }
};

void multi_wait_all(const std::shared_ptr<multi_state>& state,
                    net::any_completion_handler<void(boost::system::error_code)> handler) {
    const auto wid = state->next_waiter++;
    auto slot = net::get_associated_cancellation_slot(handler);
    state->waiters.emplace(wid, std::move(handler));
    if (slot.is_connected())
        slot.assign([weak = std::weak_ptr<multi_state>(state), wid](net::cancellation_type) {
            // The wait ends; the transfers go on.
            auto s = weak.lock();
            if (!s)
                return;
            auto it = s->waiters.find(wid);
            if (it == s->waiters.end())
                return;
            auto w = std::move(it->second);
            s->waiters.erase(it);
            // Not finish_wait: clearing the slot here would destroy this very function while it runs.
            net::post(s->cl->get_executor(), net::append(std::move(w), net::error::operation_aborted));
        });
    state->notify_if_idle();
}

} // namespace detail

multi::multi(client& c)
    : state_(std::make_shared<detail::multi_state>(c)) {}

multi::~multi() {
    stop();
}

multi::id multi::add(transfer t) {
    const id tid = state_->next_id++;
    auto& signal = state_->running.try_emplace(tid).first->second.signal;
    state_->cl->async_fetch(
        std::move(t.req), std::move(t.callbacks),
        net::bind_cancellation_slot(
            signal.slot(), [weak = std::weak_ptr<detail::multi_state>(state_), tid,
                            done = std::move(t.on_done)](boost::system::error_code ec, transfer_info info) {
                if (done)
                    done(ec, info);
                // Erased later, not here: the entry's signal is the slot this handler is bound to.
                if (auto state = weak.lock()) {
                    state->running[tid].done = true;
                    net::post(state->cl->get_executor(), [weak, tid] {
                        if (auto s = weak.lock()) {
                            s->running.erase(tid);
                            s->notify_if_idle();
                        }
                    });
                }
            }));
    return tid;
}

bool multi::cancel(id transfer_id) {
    auto it = state_->running.find(transfer_id);
    if (it == state_->running.end() || it->second.done)
        return false;
    it->second.signal.emit(net::cancellation_type::terminal);
    return true;
}

void multi::stop() {
    std::vector<id> ids;
    for (const auto& [tid, e] : state_->running)
        ids.push_back(tid);
    for (id tid : ids)
        cancel(tid);
}

std::size_t multi::running() const noexcept {
    return state_->running.size();
}

} // namespace edgeloop::http
