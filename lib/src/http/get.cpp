// client::async_get: one GET whose response is collected in memory, up to a size cap, on top of the
// streaming transfer (start_fetch).
#include "client_state.hpp"

#include <edgeloop/http/client.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace edgeloop::http::detail {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

struct get_state {
    explicit get_state(std::size_t max)
        : max_body_bytes(max) {}

    response resp;
    std::size_t max_body_bytes;
    bool over_cap = false;
    /// Cancels the transfer: bound to its handler; the caller's cancellation is forwarded to it, and it
    /// is emitted when the body goes over the cap.
    net::cancellation_signal transfer_cancel;
};

} // namespace

void start_get(const std::shared_ptr<client_state>& state, std::string url, std::size_t max_body_bytes,
               get_handler handler) {
    auto st = std::make_shared<get_state>(max_body_bytes);
    handlers h;
    h.on_response = [st](const response_head& head) { st->resp.head = head; };
    h.on_body = [st, ex = state->ex](std::span<const std::byte> bytes) {
        if (st->over_cap)
            return;
        const std::size_t room = st->max_body_bytes - st->resp.body.size();
        const std::size_t n = std::min(room, bytes.size());
        st->resp.body.append(reinterpret_cast<const char*>(bytes.data()), n);
        if (n < bytes.size()) {
            st->over_cap = true;
            // Not from inside the transfer's own callback: the cancellation completes it.
            net::post(ex, [st] { st->transfer_cancel.emit(net::cancellation_type::terminal); });
        }
    };

    auto caller_slot = net::get_associated_cancellation_slot(handler);
    if (caller_slot.is_connected())
        caller_slot.assign([st](net::cancellation_type type) { st->transfer_cancel.emit(type); });
    auto ex = net::get_associated_executor(handler, state->ex);
    auto done = [st, caller_slot, handler = std::move(handler)](error_code ec, transfer_info info) mutable {
        if (caller_slot.is_connected())
            caller_slot.clear();
        st->resp.info = std::move(info);
        if (st->over_cap) {
            ec = error::body_too_large;
            st->resp.info.detail = "more than " + std::to_string(st->max_body_bytes) + " bytes";
        }
        std::move(handler)(ec, std::move(st->resp));
    };
    start_fetch(
        state, get_request(url), std::move(h),
        net::bind_cancellation_slot(st->transfer_cancel.slot(), net::bind_executor(ex, std::move(done))));
}

} // namespace edgeloop::http::detail
