#pragma once

// A scripted server on 127.0.0.1, plain TCP or TLS (certificates of the test PKI), for fault tests: each
// accepted connection plays the next step of a script — read a request, send raw bytes, reset, close
// without close_notify, stall — so that each way a server can misbehave is one line of a test.
// Runs on the test's io_context (or one on a background thread; the counters may be read from any thread).

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgeloop::test {

/// One thing a scripted connection does.
struct fault_action {
    enum class kind {
        read_request,  ///< read up to the end of a request head ("\r\n\r\n"); a request body is not read
        send,          ///< write `bytes` (one write)
        reset,         ///< abortive close (SO_LINGER 0): the peer sees a TCP RST
        close,         ///< close the TCP connection (FIN); over TLS without close_notify
        stall,         ///< do nothing more, connection open, until the server is closed or destroyed
        repeat,        ///< start the step again from its first action (a keep-alive loop)
        send_bytewise, ///< write `bytes` one byte per write (TCP_NODELAY: a segment each, as far as
                       ///< the kernel goes), so that the client sees them in as many pieces as it can
        hold,          ///< TLS: make `bytes` a record of its own, sent in one TCP write with what the next
                       ///< send or close_notify sends (so the client's read-ahead takes in both at once);
                       ///< plain TCP: prefixed to the next send
        close_notify,  ///< TLS: send close_notify (with what hold made), then wait for the peer's or its
                       ///< close; the TCP connection stays open until then
    };
    kind what;
    std::string bytes; ///< for send
};

/// What one connection does, in order. When the actions run out, the connection is closed (as `close`).
/// On a TLS server the handshake comes first, unless the step begins with `stall` (a server that never
/// answers the ClientHello), `reset` or `close` (the connection dropped in the handshake).
using fault_step = std::vector<fault_action>;

namespace fault {
inline fault_action read_request() {
    return {fault_action::kind::read_request, {}};
}
inline fault_action send(std::string bytes) {
    return {fault_action::kind::send, std::move(bytes)};
}
inline fault_action reset() {
    return {fault_action::kind::reset, {}};
}
inline fault_action close() {
    return {fault_action::kind::close, {}};
}
inline fault_action stall() {
    return {fault_action::kind::stall, {}};
}
inline fault_action repeat() {
    return {fault_action::kind::repeat, {}};
}
inline fault_action send_bytewise(std::string bytes) {
    return {fault_action::kind::send_bytewise, std::move(bytes)};
}
inline fault_action hold(std::string bytes) {
    return {fault_action::kind::hold, std::move(bytes)};
}
inline fault_action close_notify() {
    return {fault_action::kind::close_notify, {}};
}

/// "HTTP/1.1 200 OK", Content-Length: 2, body "ok" (keep-alive).
std::string ok_response();
/// A well-behaved keep-alive server: every request on the connection answered with ok_response().
fault_step serve_ok();
/// Answers one request with `response`, then does `then` (by default: stays open for more requests,
/// answering each the same way).
fault_step answer(std::string response, fault_action then = repeat());
} // namespace fault

struct fault_server_options {
    /// Where it listens (a loopback address: 127.0.0.0/8 or ::1); port 0: any free one.
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    bool tls = false;
    /// pki base name of the certificate presented (<cert>.crt / <cert>.key, see servers.hpp).
    std::string cert = "server";
    /// Demand a client certificate signed by the pki CA (the handshake fails without one).
    bool require_client_certificate = false;
    /// ALPN protocols the server accepts: it selects the first the client offers, and refuses a client
    /// offering none of them with the no_application_protocol alert. Empty: ALPN ignored.
    std::vector<std::string> alpn;
    /// False: listen with a backlog that is already full and never accept, so connects stall.
    bool accept = true;
    /// False: issue no TLS session (no TLS 1.3 ticket, no session cache): nothing can be resumed.
    bool sessions = true;
};

class fault_server {
public:
    /// Connection i (counted from 0) plays script[i]; the last step is played again by later ones.
    fault_server(boost::asio::io_context& ioc, std::vector<fault_step> script,
                 fault_server_options opts = {});
    ~fault_server();
    fault_server(const fault_server&) = delete;
    fault_server& operator=(const fault_server&) = delete;

    std::uint16_t port() const noexcept;
    /// "http://127.0.0.1:<port><path>" or "https://..." (the pki's certificates name 127.0.0.1 too).
    std::string url(const std::string& path = "/") const;
    /// Connections accepted so far (TCP level, before any handshake).
    std::size_t accepted() const noexcept;
    /// Request heads read so far, on all connections.
    std::size_t requests() const noexcept;
    /// The request heads read so far (start line and fields, up to the blank line), in order.
    std::vector<std::string> request_heads() const;
    /// Stops accepting and closes every connection (stalled ones too). Call it on the server's loop
    /// (or with the loop stopped); the destructor does it too.
    void close();

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace edgeloop::test
