#pragma once

// Private to lib/src/http: connection establishment as its own composed operation. A connector takes a new
// (counted, still closed) connection from its transfer and makes it ready for a request: resolve ->
// connect -> [proxy tunnel] -> TLS handshake (with the client's handshake spacing and first-handshake
// session sharing). The transfer (fetch_op) keeps the request, the response and redirects.

#include "client_state.hpp"
#include "happy_eyeballs.hpp"

#include <edgeloop/http/proxy.hpp>
#include <edgeloop/http/url.hpp>
#include <edgeloop/net/resolver.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace edgeloop::http::detail {

class socks5_tunnel;

/// The phases of establishing one connection, in the order they run. Each has its own deadline
/// (http::timeouts) and its own error codes.
enum class connect_phase : unsigned char {
    idle,          ///< not started, or finished
    resolve,       ///< name to addresses: resolve_failed, resolve_timeout
    connect,       ///< TCP: connection_refused, connect_failed, connect_timeout (proxy_connect_failed)
    proxy_tls,     ///< TLS with an https:// proxy (proxy_tls.cpp): proxy_tls_failed, proxy_handshake_timeout
    proxy_tunnel,  ///< CONNECT through an HTTP proxy: proxy_auth_required, proxy_tunnel_refused,
                   ///< bad_proxy_response, proxy_tunnel_timeout; or a SOCKS5 tunnel (socks5.hpp):
                   ///< socks_*, bad_socks_response, resolve_failed (socks5://), proxy_tunnel_timeout
    tls_handshake, ///< TLS with the target (waiting for a turn counts): tls::error::*, handshake_timeout;
                   ///< through an https:// proxy, inside the proxy's TLS (tls_stream::push_inner)
};

const char* to_string(connect_phase p) noexcept;

/// Where and how to connect. Copied by connector::start (a braced temporary is safe).
struct connect_target {
    url_parts url;            ///< the target origin (host, port, tls)
    std::string key;          ///< pool key: what a session of this connection may be resumed for
    bool anonymous = false;   ///< withhold the client identity (another origin after a redirect)
    bool sni_override = true; ///< tls::options::sni_name applies (false: a foreign origin)
    /// The proxy to go through: resolve and connect go to it; then, through an HTTP proxy, a CONNECT
    /// tunnel for an https target (plain http goes in absolute form on the proxy connection: no tunnel);
    /// through a SOCKS5 proxy, a SOCKS tunnel for every target.
    std::optional<proxy_endpoint> proxy;
    std::string user_agent; ///< sent with CONNECT (empty: none)
};

/// Told once when the connection is ready or failed (never inside connector::start).
class connect_listener {
public:
    virtual void on_connected(const boost::system::error_code& ec) = 0;

protected:
    ~connect_listener() = default;
};

/// What the connector saw, for transfer_info. Time points are zero for a step that did not happen.
struct connect_result {
    std::chrono::steady_clock::time_point resolved{};
    std::chrono::steady_clock::time_point connected{};
    std::chrono::steady_clock::time_point handshaken{};
    std::string remote_ip;
    std::uint16_t remote_port = 0;
    bool tls_resumed = false;
    std::string detail;              ///< words about a failure
    boost::system::error_code cause; ///< the error under a failure
};

/// Lives in shared_ptrs held by its pending handlers and its transfer. Reusable: start() again once it
/// has told its listener (a redirect or a retry on a fresh connection).
class connector : public std::enable_shared_from_this<connector> {
public:
    explicit connector(std::shared_ptr<client_state> state);
    connector(const connector&) = delete;
    connector& operator=(const connector&) = delete;

    /// Establishes `c` to `target` with the deadlines `t`; tells `listener` (held until then).
    void start(std::shared_ptr<connection> c, const connect_target& target, const http::timeouts& t,
               std::shared_ptr<connect_listener> listener);
    /// Stops whatever phase runs, closes the connection; the listener is not told.
    void cancel();
    connect_phase phase() const noexcept { return phase_; }
    const connect_result& result() const noexcept { return result_; }

    /// The transfer's response head arrived or its hop ended: this connection has brought the TLS
    /// sessions it will (pool_options::share_first_handshake); gives up any wait or turn held.
    void release_tls_waits();
    /// A session of its origin arrived, or no connection will bring one any more.
    void session_ready();
    /// Its turn to handshake has come (pool_options::handshake_spacing): the handshake starts (posted).
    void handshake_slot_granted();

private:
    using error_code = boost::system::error_code;

    void on_resolve(const error_code& ec, edgeloop::net::resolve_answer answer, std::uint16_t port);
    void on_addresses();
    void on_connect(const error_code& ec);
    void start_tunnel();
    void on_tunnel_answer(const error_code& ec, std::size_t head_bytes);
    void start_socks();
    void resolve_socks_target(); // socks5_target.cpp
    void open_socks(const url_parts& to);
    void start_proxy_tls(); // proxy_tls.cpp
    bool configure_proxy_tls();
    void on_proxy_handshake(const error_code& ec);
    void start_tls();
    void take_handshake_turn();
    void start_handshake();
    bool configure_tls();
    bool shares_sessions() const;
    bool waits_for_session();
    void on_handshake(const error_code& ec);
    void await_tickets(SSL* ssl);
    void release_session_source();
    void succeed();
    void fail(const error_code& ec);
    void stop_pending(); ///< the race, the SOCKS tunnel and TLS waits stopped, the connection closed
    void finish(const error_code& ec);
    void arm(std::chrono::milliseconds d, const error_code& on_expiry);
    void wait_deadline();

    std::shared_ptr<client_state> state_;
    std::shared_ptr<connection> conn_;
    std::weak_ptr<connection> session_conn_; ///< the connection whose sessions are awaited
    std::shared_ptr<connect_listener> listener_;
    connect_target target_;
    http::timeouts timeouts_;
    connect_result result_;
    connect_phase phase_ = connect_phase::idle;
    std::uint64_t run_ = 0; ///< bumped per start and per cancel: late handlers of an earlier run do nothing
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_; ///< the addresses to connect to, in race order
    const char* address_source_ = "DNS";                    ///< where endpoints_ came from (for -v)
    std::string connect_to_;               ///< "host:port" a --connect-to entry led to (for -v), or empty
    std::shared_ptr<connect_race> race_;   ///< Happy Eyeballs over more than one address
    std::string tunnel_;                   ///< the CONNECT request, then the proxy's answer
    std::shared_ptr<socks5_tunnel> socks_; ///< the SOCKS5 tunnel being opened
    /// Lazy phase deadline, as fetch_op's: arm() moves deadline_, the timer re-arms itself when it fires
    /// early.
    boost::asio::steady_timer phase_timer_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point timer_at_ = std::chrono::steady_clock::time_point::max();
    error_code deadline_error_;
    std::uint64_t timer_generation_ = 0;
    std::chrono::steady_clock::time_point handshake_started_{};
    std::unique_ptr<boost::asio::steady_timer> ticket_timer_; ///< bounds the wait for TLS 1.3 tickets
    bool session_source_ = false; ///< its connection may bring a session (counted in session_sources)
    bool awaits_session_ = false; ///< in client_state::session_waiters
    bool holds_handshake_slot_ = false;
    bool awaits_handshake_slot_ = false; ///< in client_state::handshake_queue
    bool handshake_ok_ = false;          ///< the current connection's handshake succeeded
};

/// "Basic base64(user:password)" for Proxy-Authorization (RFC 7617).
std::string basic_credentials(const proxy_endpoint& p);

/// Maps the reason of a TLS failure: first the certificate verification result (when `ssl` is given),
/// then the alert or library reason carried by the error code. `detail` gets the words.
boost::system::error_code map_tls_failure(SSL* ssl, const boost::system::error_code& ec, std::string& detail);

} // namespace edgeloop::http::detail
