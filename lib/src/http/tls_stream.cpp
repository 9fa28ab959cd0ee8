#include "tls_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>

#include <cerrno>

namespace edgeloop::http::detail {

namespace net = boost::asio;

/// The BIO between the SSL and the socket: recv and send on the descriptor, nothing buffered. Never
/// blocks (MSG_DONTWAIT, whatever the descriptor's mode) and never raises SIGPIPE (MSG_NOSIGNAL).
BIO_METHOD* new_socket_bio_method();

struct tls_bio {
    static tls_stream& stream(BIO* b) { return *static_cast<tls_stream*>(BIO_get_data(b)); }

    static int write(BIO* b, const char* data, int len) {
        tls_stream& s = stream(b);
        BIO_clear_retry_flags(b);
        for (;;) {
            const ssize_t n = ::send(s.socket_.native_handle(), data, static_cast<std::size_t>(len),
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0)
                return static_cast<int>(n);
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                BIO_set_retry_write(b);
            else
                s.last_errno_ = errno;
            return -1;
        }
    }

    static int read(BIO* b, char* data, int len) {
        tls_stream& s = stream(b);
        BIO_clear_retry_flags(b);
        for (;;) {
            const ssize_t n =
                ::recv(s.socket_.native_handle(), data, static_cast<std::size_t>(len), MSG_DONTWAIT);
            if (n > 0)
                return static_cast<int>(n);
            if (n == 0) {
                s.eof_ = s.eof_ || len > 0;
                return 0;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                BIO_set_retry_read(b);
            else
                s.last_errno_ = errno;
            return -1;
        }
    }

    static long ctrl(BIO* /*b*/, int cmd, long /*num*/, void* /*ptr*/) {
        switch (cmd) {
        case BIO_CTRL_FLUSH: // nothing is buffered here
        case BIO_CTRL_DUP:
            return 1;
        case BIO_CTRL_EOF:
            // Deliberately never: OpenSSL 3.0's ssl3_read_n turns a recv of 0 with BIO_eof() true into a
            // fatal decode_error alert, sent to a peer that has gone (and, in TLS 1.2, the cached session
            // marked not resumable). asio::ssl::stream never lets OpenSSL see the end either: the read then
            // fails with SSL_ERROR_SYSCALL and no errno, and classify() reports stream_truncated.
            return 0;
        default:
            return 0;
        }
    }

    static BIO_METHOD* method() {
        static BIO_METHOD* const m = new_socket_bio_method();
        return m;
    }
};

/// Made once per process; nullptr when OpenSSL cannot (no type index, no memory): tls_stream's
/// native_handle() is then nullptr.
BIO_METHOD* new_socket_bio_method() {
    // -1 when OpenSSL fails to count (OpenSSL 3.0: its lock or atomic add failed): -1 | BIO_TYPE_SOURCE_SINK
    // would be a type with every bit set, which BIO_find_type takes for any kind of BIO.
    const int index = BIO_get_new_index();
    if (index == -1) {
        ERR_clear_error();
        return nullptr;
    }
    BIO_METHOD* made = BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "edgeloop socket");
    if (made != nullptr &&
        (BIO_meth_set_write(made, tls_bio::write) != 1 || BIO_meth_set_read(made, tls_bio::read) != 1 ||
         BIO_meth_set_ctrl(made, tls_bio::ctrl) != 1)) {
        BIO_meth_free(made);
        made = nullptr;
    }
    ERR_clear_error();
    return made;
}

tls_stream::tls_stream(socket_type socket, SSL_CTX* ctx)
    : socket_(std::move(socket)) {
    BIO_METHOD* method = tls_bio::method();
    if (method == nullptr)
        return;
    ssl_ = SSL_new(ctx);
    BIO* bio = ssl_ != nullptr ? BIO_new(method) : nullptr;
    if (bio == nullptr) {
        SSL_free(ssl_);
        ssl_ = nullptr;
        ERR_clear_error();
        return;
    }
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio); // one reference, owned by the SSL
    SSL_set_connect_state(ssl_);
    // As asio::ssl::stream: a write returns after one record, and may be retried from another address.
    // Not SSL_MODE_RELEASE_BUFFERS (which Asio sets): freeing and reallocating both ~17 KiB record buffers
    // around every record cost ~1.9k instructions per keep-alive request in the bench client, and raised
    // its peak RSS with 50 busy connections (14.1 MiB against 13.5 MiB without it).
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // One recv takes whatever has arrived (a small response: all of it), not one record header at a time.
    SSL_set_read_ahead(ssl_, 1);
}

tls_stream::~tls_stream() {
    SSL_free(ssl_);   // and the BIO (with push_inner: the filter BIO, then its reference to the socket BIO)
    SSL_free(outer_); // and the socket BIO; the socket closes itself
}

bool tls_stream::push_inner(SSL_CTX* ctx) {
    if (ssl_ == nullptr || outer_ != nullptr)
        return false;
    SSL* inner = SSL_new(ctx);
    BIO* filter = inner != nullptr ? BIO_new(BIO_f_ssl()) : nullptr;
    // BIO_NOCLOSE: freeing the inner SSL (and so the filter) leaves the outer SSL to the destructor.
    if (filter == nullptr || BIO_set_ssl(filter, ssl_, BIO_NOCLOSE) != 1) {
        BIO_free(filter);
        SSL_free(inner);
        ERR_clear_error();
        return false;
    }
    SSL_set_bio(inner, filter, filter);
    SSL_set_connect_state(inner);
    SSL_set_mode(inner, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_read_ahead(inner, 1);
    outer_ = ssl_;
    ssl_ = inner;
    return true;
}

void tls_stream::clear_errors() noexcept {
    // SSL_get_error judges by the first error in the thread's queue (ERR_peek_error), so the queue must
    // hold none of someone else's. Peeking costs a third of ERR_clear_error, which walks all 16 slots,
    // and the queue is nearly always empty already.
    if (ERR_peek_error() != 0)
        ERR_clear_error();
    last_errno_ = 0;
}

tls_stream::want tls_stream::classify(int r, error_code& ec) {
    switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
        return want::read;
    case SSL_ERROR_WANT_WRITE:
        return want::write;
    case SSL_ERROR_NONE:
        ec = {};
        return want::done;
    case SSL_ERROR_ZERO_RETURN: // the peer's close_notify
        ec = net::error::eof;
        return want::done;
    case SSL_ERROR_SSL:
        ec = error_code(static_cast<int>(ERR_get_error()), net::error::get_ssl_category());
        ERR_clear_error(); // the rest came from the same call: leave the thread's queue empty
        return want::done;
    case SSL_ERROR_SYSCALL:
        if (last_errno_ != 0)
            ec = error_code(last_errno_, boost::system::system_category());
        else if (eof_)
            ec = (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0
                     ? error_code(net::error::eof)
                     : error_code(net::ssl::error::stream_truncated);
        else if (const unsigned long e = ERR_get_error(); e != 0)
            ec = error_code(static_cast<int>(e), net::error::get_ssl_category());
        else
            ec = net::ssl::error::unspecified_system_error;
        ERR_clear_error();
        return want::done;
    default:
        ec = net::ssl::error::unexpected_result;
        return want::done;
    }
}

} // namespace edgeloop::http::detail
