#pragma once

#include <edgeloop/core/asio_config.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/http/full_response.hpp>
#include <edgeloop/http/options.hpp>
#include <edgeloop/http/request.hpp>
#include <edgeloop/http/response.hpp>
#include <edgeloop/tls/context.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace edgeloop::http {

/// Streaming callbacks of one transfer. All are optional and run on the client's executor. At most one
/// of on_body and on_body_paced may be set (both: the transfer fails with error::invalid_request).
struct handlers {
    /// Called once with the status line and headers, before any body byte.
    std::function<void(const response_head&)> on_response;
    /// Called with each piece of the body as it arrives (at most limits::body_chunk_bytes at a time).
    /// The bytes are valid only during the call. Reading goes on as soon as it returns.
    std::function<void(std::span<const std::byte>)> on_body;
    /// Back-pressure: like on_body, but nothing more is read from the connection until `resume()` has
    /// been called, so a slow consumer holds at most one piece (limits::body_chunk_bytes) and the
    /// server is slowed by TCP flow control instead of the client buffering without bound. `resume`
    /// may be called during the call or later; calling it again (or after the transfer ended) does
    /// nothing; it may be called from any thread (it dispatches to the client's executor). The bytes
    /// stay valid until resume has been called (at least while `resume` or a copy of it exists).
    /// While waiting for resume the idle deadline (timeouts::idle) does not run, the total deadline
    /// does, and cancellation completes the transfer at once with operation_aborted: without resume,
    /// the transfer waits for one of those. It completes only after resume has been called for the
    /// last piece.
    std::function<void(std::span<const std::byte> bytes, std::function<void()> resume)> on_body_paced;
    /// The body starts again: the bytes delivered next belong at `offset` of the resource, so the
    /// consumer drops what it holds from there on (a file is truncated to `offset`). Called before the
    /// next body byte when a retry cannot resume where the last attempt stopped (the resource changed,
    /// no validator, the server ignores Range: offset 0), and when request::range asked for bytes from
    /// range->first > 0 but the whole body comes (offset 0). Only for request::retry or request::range.
    std::function<void(std::uint64_t offset)> on_body_rewind;
};

namespace detail {
struct client_state;
using fetch_handler = boost::asio::any_completion_handler<void(boost::system::error_code, transfer_info)>;
void start_fetch(const std::shared_ptr<client_state>& state, request req, handlers h, fetch_handler handler);
using get_handler = boost::asio::any_completion_handler<void(boost::system::error_code, response)>;
void start_get(const std::shared_ptr<client_state>& state, std::string url, std::size_t max_body_bytes,
               get_handler handler);
inline request get_request(std::string_view url) {
    request r;
    r.url = url;
    return r;
}
} // namespace detail

/// Makes HTTP and HTTPS requests on one executor: resolve, connect, TLS handshake (verified as the
/// tls::context says), request, response head, body streamed to on_body; redirects followed, hosts
/// checked against the allowlist. Connections are kept alive and reused per origin and TLS identity, TLS
/// sessions resumed, and the pool limits (total, per host) queue transfers in FIFO order. The
/// tls::context is shared by every connection; one client serves any number of concurrent transfers.
///
/// In a coroutine (C++20, `boost::asio::use_awaitable` or `deferred`), write
///
///     auto [ec, resp] = co_await client.async_get(url, 1 << 20, as_tuple(use_awaitable));
///     auto [ec, info] = co_await client.async_fetch(url, std::move(h), as_tuple(use_awaitable));
///     auto [ec, info] = co_await client.async_fetch(std::move(req), std::move(h), as_tuple(use_awaitable));
///
/// and never a braced list inside the co_await, like `async_fetch({.url = u}, {}, ...)`: GCC 12 (Debian
/// 12's compiler) destroys such a temporary twice (a double free). Build the request before the
/// co_await, or use the overloads taking a URL (tests/integration/coroutine_test.cpp).
///
/// Threads: a client is not thread-safe. Everything it does runs on its executor, and its members
/// (other than async_fetch) must be called there too. When the io_context is run by several threads,
/// make that executor a strand (`client c(boost::asio::make_strand(ioc), ...)`); then async_fetch may be
/// initiated from any thread, cancellation signals bound to a transfer must be emitted on the strand
/// (post the emit to it), and on_body_paced's resume may be called from any thread. Clients on different
/// strands may share one tls::context. (tests/threads/multi_threads_test.cpp runs this under TSan.)
class client {
public:
    using executor_type = boost::asio::any_io_executor;

    /// http only: https URLs fail with tls::error::handshake_failed ("no TLS context").
    /// Throws std::invalid_argument for options that cannot work (limits::body_chunk_bytes 0).
    client(boost::asio::any_io_executor ex, client_options opts = {});
    client(boost::asio::any_io_executor ex, tls::context tls, client_options opts = {});
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    /// Cancels the transfers still running; they complete with operation_aborted, after the destructor
    /// has returned (their handlers are posted).
    ~client();

    executor_type get_executor() const noexcept;
    const client_options& options() const noexcept;

    /// Performs one request.
    ///
    /// Completes with `void(error_code, transfer_info)` once the whole body has been delivered, or on the
    /// first failure: an edgeloop.http or edgeloop.tls error naming the phase or reason, or
    /// operation_aborted after cancellation. A response with any status is a success here; the status is
    /// in transfer_info. Supports per-operation cancellation of types terminal, partial and total (all
    /// abandon the transfer), and cancel_all(). Never completes inline: neither inside this call nor
    /// inside a call that cancels it (a bound slot's emit, cancel_all(), ~client(), multi::cancel), so a
    /// coroutine owning the cancellation signal may end when it resumes. May be initiated from any thread:
    /// the transfer itself (and every callback) runs on the client's executor.
    template <typename CompletionToken>
    auto async_fetch(request req, handlers h, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, transfer_info)>(
            [](auto handler, const std::shared_ptr<detail::client_state>& state, request r, handlers hs) {
                detail::start_fetch(state, std::move(r), std::move(hs), std::move(handler));
            },
            token, state_, std::move(req), std::move(h));
    }

    /// GET `url`, otherwise as above. The URL is copied before this returns.
    template <typename CompletionToken>
    auto async_fetch(std::string_view url, handlers h, CompletionToken&& token) {
        return async_fetch(detail::get_request(url), std::move(h), std::forward<CompletionToken>(token));
    }

    /// GET `url` and discard the body (the status and sizes are in transfer_info), otherwise as above.
    template <typename CompletionToken>
    auto async_fetch(std::string_view url, CompletionToken&& token) {
        return async_fetch(detail::get_request(url), handlers{}, std::forward<CompletionToken>(token));
    }

    /// GET `url` and collect the whole response in memory: status, header fields and body.
    ///
    /// Completes with `void(error_code, response)`, where response::info is what async_fetch reports.
    /// A body longer than `max_body_bytes` fails with error::body_too_large (the transfer is abandoned
    /// as soon as it is exceeded; response::body holds the first max_body_bytes). Otherwise as
    /// async_fetch: any status is a success, the same errors, per-operation cancellation of types
    /// terminal, partial and total, never completes inline. The URL is copied before this returns.
    template <typename CompletionToken>
    auto async_get(std::string_view url, std::size_t max_body_bytes, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, response)>(
            [](auto handler, const std::shared_ptr<detail::client_state>& state, std::string u,
               std::size_t max) { detail::start_get(state, std::move(u), max, std::move(handler)); },
            token, state_, std::string(url), max_body_bytes);
    }

    /// Cancels every running or queued transfer of this client (each completes with operation_aborted,
    /// posted: not inside this call) and closes its idle connections.
    void cancel_all();

    /// Rotation: the client identity (certificate and key) of new connections from now on, e.g. a renewed
    /// certificate. Builds a tls::context from the client's current TLS options with `id` as
    /// tls::options::client_identity (cert_file/key_file cleared), so trust, ALPN and SNI stay; the
    /// files, token or TPM are read here, before anything changes: on a failure (a tls::config_error,
    /// e.g. a half-written file, an expired certificate) the client keeps its identity. Then, as
    /// set_tls_context():
    ///   - new connections (and transfers queued for one) use the new identity;
    ///   - idle pooled TLS connections made with the old one are closed, and connections still busy with
    ///     it are closed when their transfer ends instead of being pooled;
    ///   - transfers in flight finish on their connection, with the identity it was made with;
    ///   - TLS sessions are cached per identity: the cache is emptied, and a session made with one
    ///     identity is never resumed with another (resumption would skip the new certificate).
    /// Synchronous (nothing to co_await). Threads: like every member but async_fetch, call it on the
    /// client's executor (from a handler or coroutine running on the loop, or a strand's); the context
    /// may be built on another thread first and given to set_tls_context() on the executor. A client made
    /// without a TLS context: std::logic_error.
    void set_identity(tls::identity id);
    /// Rotation with a context built by the caller (any trust, ALPN, identity); as set_identity().
    void set_tls_context(tls::context ctx);
    /// The TLS context new connections use (its client_certificate_expiry(), client_certificate_cn()),
    /// or nullptr for a client without one. Valid until the next set_identity()/set_tls_context().
    const tls::context* tls_context() const noexcept;
    /// Number of set_identity()/set_tls_context() calls so far.
    std::uint64_t identity_generation() const noexcept;

    /// Bandwidth limit of the whole client in bytes per second (0: unlimited), from now on: transfers
    /// running and waiting for their budget included (client_options::rate_limit, http::rate_limit).
    void set_rate_limit(std::uint64_t bytes_per_second);

    /// Number of transfers started and not yet completed.
    std::size_t active() const noexcept;
    /// Kept-alive connections waiting for a next request.
    std::size_t idle_connections() const noexcept;
    /// Open connections, busy and idle (what pool_options::max_total limits).
    std::size_t open_connections() const noexcept;
    /// Origins with a TLS session remembered for resumption.
    std::size_t cached_tls_sessions() const noexcept;

private:
    friend class multi; // multi::async_add waits for room in the queue
    std::shared_ptr<detail::client_state> state_;
};

} // namespace edgeloop::http
