#pragma once

// Private to lib/src/http: the client's TLS stream. An SSL* that reads and writes the socket's descriptor
// itself (a BIO method calling recv/send), driven by socket waits: no BIO pair, no copies between the
// engine and the socket, no buffers of its own, and one SSL call per attempt. Beast uses it as an
// AsyncReadStream/AsyncWriteStream. Error codes are those asio::ssl::stream reports for the same events
// (see boost/asio/ssl/detail/impl/engine.ipp), which the client's error mapping relies on:
//   - a TLS failure (SSL_ERROR_SSL):              error_code(ERR_get_error(),
//   asio::error::get_ssl_category())
//   - the peer's close_notify:                    asio::error::eof
//   - end of stream without close_notify:         asio::ssl::error::stream_truncated
//   - a failed recv/send (ECONNRESET, EPIPE...): that errno (asio::error::connection_reset, broken_pipe...)
//   - the socket closed or the wait cancelled:    asio::error::operation_aborted

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/handler_continuation_hook.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/require.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

namespace edgeloop::http::detail {

template <typename Core, typename Handler>
class tls_io_op;

/// A client TLS connection over a TCP socket it owns. Not movable (the SSL's BIO points at it).
/// Operations must not overlap (the client never overlaps them; asio::ssl::stream allows a read beside a
/// write): an operation waiting for the socket would miss bytes another one's SSL call had taken in. Every
/// operation completes through the handler's executor, never inside its initiating call.
class tls_stream {
public:
    using socket_type = boost::asio::ip::tcp::socket;
    using executor_type = socket_type::executor_type;
    using next_layer_type = socket_type;
    using lowest_layer_type = socket_type;
    using error_code = boost::system::error_code;

    /// Takes over a connected socket and makes a client-side SSL from ctx. native_handle() is nullptr when
    /// OpenSSL could not (out of memory): the caller must check before using the stream.
    tls_stream(socket_type socket, SSL_CTX* ctx);
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;
    ~tls_stream();

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    /// The SSL that operations use: the innermost one (the target's, after push_inner).
    SSL* native_handle() const noexcept { return ssl_; }
    /// TLS inside this stream's TLS (an https:// proxy's tunnel): a new client SSL from ctx whose BIO is
    /// OpenSSL's SSL filter BIO (BIO_f_ssl) over the current SSL, which becomes the outer one. From then on
    /// native_handle() and every operation are the inner SSL's; the outer SSL's records carry its bytes and
    /// the outer SSL alone meets the socket, so the socket waits stay as they are. A stream without it (no
    /// https:// proxy) pays nothing: no extra copy, call or indirection on its path. False when OpenSSL
    /// could not (out of memory): the stream is left as it was.
    bool push_inner(SSL_CTX* ctx);
    /// The outer SSL after push_inner (the proxy's), or nullptr.
    SSL* outer_handle() const noexcept { return outer_; }
    /// Decrypted bytes wait inside OpenSSL, in the inner SSL or (TLS in TLS) the outer one.
    bool has_pending() const noexcept {
        return (ssl_ != nullptr && SSL_has_pending(ssl_) == 1) ||
               (outer_ != nullptr && SSL_has_pending(outer_) == 1);
    }
    next_layer_type& next_layer() noexcept { return socket_; }
    lowest_layer_type& lowest_layer() noexcept { return socket_; }

    /// Decrypted bytes into the first non-empty buffer of the sequence (as asio::ssl::stream does).
    template <typename MutableBufferSequence, typename ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token);
    /// One TLS record's worth at most (SSL_MODE_ENABLE_PARTIAL_WRITE): the sequence's first buffer, or its
    /// first 8 KiB gathered when it begins with smaller pieces (as asio::ssl::stream does).
    template <typename ConstBufferSequence, typename WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token);
    /// The client side of the handshake.
    template <typename HandshakeToken>
    auto async_handshake(HandshakeToken&& token);
    /// Sends close_notify, then waits for the peer's. Unbounded: the caller bounds it (closing the socket).
    template <typename ShutdownToken>
    auto async_shutdown(ShutdownToken&& token);

private:
    template <typename Core, typename Handler>
    friend class tls_io_op;

    /// Initiates an operation that transfers no bytes (handshake, shutdown).
    template <typename Core, typename Token>
    auto async_run(Core core, Token&& token);
    friend struct tls_bio;

    enum class want { done, read, write };

    /// One attempt of an SSL call on a clean error queue. done: ec and n hold the result.
    template <typename Core>
    want attempt(Core& core, error_code& ec, std::size_t& n) {
        clear_errors();
        const int r = core(ssl_);
        if (r > 0) {
            ec = {};
            n = static_cast<std::size_t>(r);
            return want::done;
        }
        n = 0;
        return classify(r, ec);
    }
    void clear_errors() noexcept;
    /// The outcome of an SSL call that returned r <= 0.
    want classify(int r, error_code& ec);
    /// Queues a completion on the handler's executor (what asio::post does, without the detour through
    /// the socket's executor and a work-tracking dispatcher when the handler names its own executor).
    template <typename Op>
    void post_completion(Op&& op) {
        namespace exec = boost::asio::execution;
        const auto ex = boost::asio::get_associated_executor(op.handler(), socket_.get_executor());
        const auto alloc = boost::asio::get_associated_allocator(op.handler());
        if constexpr (exec::is_executor<std::decay_t<decltype(ex)>>::value)
            boost::asio::prefer(boost::asio::require(ex, exec::blocking.never), exec::relationship.fork,
                                exec::allocator(alloc))
                .execute(std::forward<Op>(op));
        else
            ex.post(std::forward<Op>(op), alloc);
    }

    socket_type socket_;
    SSL* ssl_ = nullptr;
    SSL* outer_ = nullptr; ///< push_inner: the SSL under ssl_ (the proxy's), owned here
    int last_errno_ = 0;   ///< of the last failed recv/send other than EAGAIN (0: none since the last call)
    bool eof_ = false;     ///< recv returned 0: the peer closed its side of the TCP connection
};

namespace tls_core {

inline int clamp(std::size_t n) noexcept {
    return n < static_cast<std::size_t>(INT_MAX) ? static_cast<int>(n) : INT_MAX;
}

struct read {
    static constexpr bool transfers = true;
    boost::asio::mutable_buffer buffer;
    int operator()(SSL* ssl) const { return SSL_read(ssl, buffer.data(), clamp(buffer.size())); }
};

template <typename ConstBufferSequence>
struct write {
    static constexpr bool transfers = true;
    ConstBufferSequence buffers;
    int operator()(SSL* ssl) const {
        // The buffer may move between retries (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); its bytes do not.
        unsigned char storage[8192];
        const boost::asio::const_buffer b = linearise(storage);
        return SSL_write(ssl, b.data(), clamp(b.size()));
    }
    boost::asio::const_buffer linearise(unsigned char (&storage)[8192]) const {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        const auto end = boost::asio::buffer_sequence_end(buffers);
        std::size_t used = 0;
        while (it != end && used < sizeof storage) {
            const boost::asio::const_buffer piece(*it);
            ++it;
            if (piece.size() == 0)
                continue;
            if (used == 0 && (it == end || piece.size() >= sizeof storage))
                return piece; // no copy: the only piece, or a large first one
            const std::size_t n = std::min(piece.size(), sizeof storage - used);
            std::memcpy(storage + used, piece.data(), n);
            used += n;
        }
        return boost::asio::const_buffer(storage, used);
    }
};

struct handshake {
    static constexpr bool transfers = false;
    int operator()(SSL* ssl) const { return SSL_do_handshake(ssl); }
};

struct shutdown {
    static constexpr bool transfers = false;
    int operator()(SSL* ssl) const {
        // 0: our close_notify is out; the second call waits for the peer's.
        const int r = SSL_shutdown(ssl);
        return r == 0 ? SSL_shutdown(ssl) : r;
    }
};

} // namespace tls_core

/// One operation: attempt, wait for the socket when OpenSSL asks, attempt again, complete. The socket wait
/// carries the handler's executor, allocator and cancellation slot (see the associator below), so the
/// wait is where cancellation and the handler's executor take effect, as with Asio's own operations.
template <typename Core, typename Handler>
class tls_io_op {
public:
    using error_code = boost::system::error_code;

    template <typename H>
    tls_io_op(tls_stream& s, Core core, H&& h)
        : s_(&s)
        , core_(std::move(core))
        , handler_(std::forward<H>(h)) {}

    /// From the initiating function: the first attempt; any completion is posted.
    void start() {
        switch (s_->attempt(core_, ec_, n_)) {
        case tls_stream::want::read:
            return s_->socket_.async_wait(tls_stream::socket_type::wait_read, std::move(*this));
        case tls_stream::want::write:
            return s_->socket_.async_wait(tls_stream::socket_type::wait_write, std::move(*this));
        case tls_stream::want::done:
            break;
        }
        s_->post_completion(std::move(*this));
    }

    /// A socket wait completed (on the handler's executor): attempt again, or complete.
    void operator()(const error_code& ec) {
        continuation_ = true;
        if (ec) {
            ec_ = ec;
            n_ = 0;
            return (*this)();
        }
        switch (s_->attempt(core_, ec_, n_)) {
        case tls_stream::want::read:
            return s_->socket_.async_wait(tls_stream::socket_type::wait_read, std::move(*this));
        case tls_stream::want::write:
            return s_->socket_.async_wait(tls_stream::socket_type::wait_write, std::move(*this));
        case tls_stream::want::done:
            break;
        }
        (*this)();
    }

    /// Completes: the result goes to the handler.
    void operator()() {
        if constexpr (Core::transfers)
            std::move(handler_)(ec_, n_);
        else
            std::move(handler_)(ec_);
    }

    const Handler& handler() const noexcept { return handler_; }

    friend bool asio_handler_is_continuation(tls_io_op* op) {
        return op->continuation_ || boost_asio_handler_cont_helpers::is_continuation(op->handler_);
    }

private:
    tls_stream* s_;
    Core core_;
    error_code ec_;
    std::size_t n_ = 0;
    bool continuation_ = false;
    Handler handler_;
};

template <typename MutableBufferSequence, typename ReadToken>
auto tls_stream::async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers),
              end = boost::asio::buffer_sequence_end(buffers);
         it != end; ++it) {
        first = boost::asio::mutable_buffer(*it);
        if (first.size() != 0)
            break;
    }
    return boost::asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
        [this](auto&& handler, boost::asio::mutable_buffer b) {
            using op = tls_io_op<tls_core::read, std::decay_t<decltype(handler)>>;
            op o(*this, tls_core::read{b}, std::forward<decltype(handler)>(handler));
            if (b.size() == 0) // nothing to read into: done at once, as asio::ssl::stream does
                return post_completion(std::move(o));
            o.start();
        },
        token, first);
}

template <typename ConstBufferSequence, typename WriteToken>
auto tls_stream::async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
        [this](auto&& handler, const ConstBufferSequence& b) {
            using op = tls_io_op<tls_core::write<ConstBufferSequence>, std::decay_t<decltype(handler)>>;
            op o(*this, tls_core::write<ConstBufferSequence>{b}, std::forward<decltype(handler)>(handler));
            if (boost::asio::buffer_size(b) == 0)
                return post_completion(std::move(o));
            o.start();
        },
        token, buffers);
}

template <typename Core, typename Token>
auto tls_stream::async_run(Core core, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [this](auto&& handler, Core c) {
            using op = tls_io_op<Core, std::decay_t<decltype(handler)>>;
            op(*this, c, std::forward<decltype(handler)>(handler)).start();
        },
        token, core);
}

template <typename HandshakeToken>
auto tls_stream::async_handshake(HandshakeToken&& token) {
    return async_run(tls_core::handshake{}, std::forward<HandshakeToken>(token));
}

template <typename ShutdownToken>
auto tls_stream::async_shutdown(ShutdownToken&& token) {
    return async_run(tls_core::shutdown{}, std::forward<ShutdownToken>(token));
}

} // namespace edgeloop::http::detail

namespace boost::asio {

/// The operation is its handler as far as executors, allocators and cancellation slots go.
template <template <typename, typename> class Associator, typename Core, typename Handler,
          typename DefaultCandidate>
struct associator<Associator, edgeloop::http::detail::tls_io_op<Core, Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const edgeloop::http::detail::tls_io_op<Core, Handler>& op) noexcept {
        return Associator<Handler, DefaultCandidate>::get(op.handler());
    }
    static auto get(const edgeloop::http::detail::tls_io_op<Core, Handler>& op,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(op.handler(), c)) {
        return Associator<Handler, DefaultCandidate>::get(op.handler(), c);
    }
};

} // namespace boost::asio
