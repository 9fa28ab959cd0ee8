#include <edgeloop/http/multi.hpp>

#include "client_state.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <list>
#include <map>
#include <vector>

namespace edgeloop::http {

namespace net = boost::asio;

namespace detail {

struct multi_state : std::enable_shared_from_this<multi_state> {
    multi_state(client& c, std::shared_ptr<client_state> s)
        : cl(&c)
        , cs(std::move(s)) {}

    client* cl;
    std::shared_ptr<client_state> cs;
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

    /// Transfers waiting in async_add, in order; a node never moves (its handler's slot points at it).
    using add_handler = net::any_completion_handler<void(boost::system::error_code, multi::id)>;
    struct pending_add {
        multi::id tid;
        transfer t;
        add_handler handler;
    };
    std::list<pending_add> pending;
    /// Registered with the client (as a weak_ptr) the first time an async_add has to wait.
    std::shared_ptr<std::function<void()>> room_listener;

    multi::id start(multi::id tid, transfer t);

    /// Completes a waiting async_add (posted).
    void finish_add(pending_add& p, boost::system::error_code ec, bool clear_slot) {
        if (clear_slot) {
            auto slot = net::get_associated_cancellation_slot(p.handler);
            if (slot.is_connected())
                slot.clear();
        }
        net::post(cl->get_executor(), net::append(std::move(p.handler), ec, p.tid));
    }

    /// Accepts waiting async_adds while the queue has room.
    void feed() {
        while (!pending.empty() && cs->queue_has_room()) {
            auto p = std::move(pending.front());
            pending.pop_front();
            start(p.tid, std::move(p.t));
            finish_add(p, {}, true);
        }
        if (!pending.empty() && !room_listener) { // kept from now on: a no-op while none waits
            room_listener = std::make_shared<std::function<void()>>([weak = weak_from_this()] {
                if (auto self = weak.lock())
                    self->feed();
            });
            cs->room_listeners.push_back(room_listener);
        }
    }

    /// Aborts a waiting async_add; false when none has this id.
    bool abort_pending(multi::id tid, bool clear_slot) {
        for (auto it = pending.begin(); it != pending.end(); ++it) {
            if (it->tid != tid)
                continue;
            auto p = std::move(*it);
            pending.erase(it);
            finish_add(p, net::error::operation_aborted, clear_slot);
            notify_if_idle();
            return true;
        }
        return false;
    }

    void notify_if_idle() {
        if (!running.empty() || !pending.empty())
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

void multi_async_add(const std::shared_ptr<multi_state>& state, transfer t,
                     net::any_completion_handler<void(boost::system::error_code, multi::id)> handler) {
    const multi::id tid = state->next_id++;
    auto slot = net::get_associated_cancellation_slot(handler);
    state->pending.push_back({tid, std::move(t), std::move(handler)});
    if (slot.is_connected())
        slot.assign([weak = std::weak_ptr<multi_state>(state), tid](net::cancellation_type) {
            // Not cleared here: clearing the slot would destroy this very function while it runs.
            if (auto s = weak.lock())
                s->abort_pending(tid, false);
        });
    // Accepted at the earliest from the loop: never inside the call.
    net::post(state->cl->get_executor(), [weak = state->weak_from_this()] {
        if (auto self = weak.lock())
            self->feed();
    });
}

multi::id multi_state::start(multi::id tid, transfer t) {
    auto& signal = running.try_emplace(tid).first->second.signal;
    cl->async_fetch(std::move(t.req), std::move(t.callbacks),
                    net::bind_cancellation_slot(signal.slot(),
                                                [weak = weak_from_this(), tid, done = std::move(t.on_done)](
                                                    boost::system::error_code ec, transfer_info info) {
                                                    if (done)
                                                        done(ec, info);
                                                    // Erased later, not here: the entry's signal is the slot
                                                    // this handler is bound to.
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

} // namespace detail

multi::multi(client& c)
    : state_(std::make_shared<detail::multi_state>(c, c.state_)) {}

multi::~multi() {
    stop();
}

multi::id multi::add(transfer t) {
    return state_->start(state_->next_id++, std::move(t));
}

bool multi::cancel(id transfer_id) {
    auto it = state_->running.find(transfer_id);
    if (it == state_->running.end())
        return state_->abort_pending(transfer_id, true);
    if (it->second.done)
        return false;
    it->second.signal.emit(net::cancellation_type::terminal);
    return true;
}

void multi::stop() {
    std::vector<id> ids;
    for (const auto& [tid, e] : state_->running)
        ids.push_back(tid);
    for (const auto& p : state_->pending)
        ids.push_back(p.tid);
    for (id tid : ids)
        cancel(tid);
}

std::size_t multi::running() const noexcept {
    return state_->running.size();
}

std::size_t multi::waiting_to_add() const noexcept {
    return state_->pending.size();
}

} // namespace edgeloop::http
