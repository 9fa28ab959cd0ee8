#pragma once

#include <edgeloop/http/connect_options.hpp>
#include <edgeloop/http/proxy.hpp>
#include <edgeloop/http/rate_limit.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace edgeloop::http {

/// Per-phase deadlines. Each failure has its own error code (resolve_timeout, connect_timeout, ...).
/// A zero duration turns that deadline off.
struct timeouts {
    std::chrono::milliseconds resolve{std::chrono::seconds(10)};
    std::chrono::milliseconds connect{std::chrono::seconds(10)};
    std::chrono::milliseconds handshake{std::chrono::seconds(10)};
    std::chrono::milliseconds write{std::chrono::seconds(30)};
    /// From the end of the request to the end of the response head.
    std::chrono::milliseconds response_head{std::chrono::seconds(30)};
    /// Longest wait for the next body bytes.
    std::chrono::milliseconds idle{std::chrono::seconds(30)};
    /// Whole transfer; off by default, as in curl.
    std::chrono::milliseconds total{0};
    /// From the CONNECT request to the end of the proxy's answer head (error::proxy_tunnel_timeout).
    std::chrono::milliseconds proxy_tunnel{std::chrono::seconds(10)};
    /// The TLS handshake with an https:// proxy (error::proxy_handshake_timeout).
    std::chrono::milliseconds proxy_handshake{std::chrono::seconds(10)};
};

/// Size limits, each with its own error (header_too_large, body_too_large).
struct limits {
    std::uint32_t max_header_bytes = 64 * 1024;
    std::uint64_t max_body_bytes = std::numeric_limits<std::uint64_t>::max();
    /// Size of the buffer body bytes are read into and handed to on_body from (one per transfer), and of
    /// the pieces a request body is sent in. Must not be 0: the client constructor throws
    /// std::invalid_argument, a request's own limits fail the transfer with error::invalid_request.
    std::size_t body_chunk_bytes = 16 * 1024;
    /// Refuse (malformed_response) a response whose status line, header fields or trailer fields end
    /// in a bare LF instead of CRLF. Off: such lines are accepted, as RFC 9112 2.2 allows and curl does
    /// (chunk-size lines must end in CRLF either way).
    bool strict_line_endings = false;
};

/// Connection reuse and concurrency. Open connections (busy and idle) count toward the limits; a transfer
/// that would exceed one waits in a FIFO queue (its total deadline keeps running, as in curl).
struct pool_options {
    /// Most open connections in all; 0: no limit.
    std::size_t max_total = 0;
    /// Most open connections to one host, as the URL names it (a host name or an IP address), whatever
    /// the scheme and port: http and https, or two ports, of one host share this limit ("localhost" and
    /// "127.0.0.1" are two hosts); 0: no limit.
    std::size_t max_per_host = 0;
    /// Most transfers waiting in the FIFO queue for a connection (see multi::async_add); 0: no limit (the
    /// default). A transfer that would have to wait while this many already do fails with
    /// error::queue_full (posted, never inline) instead of holding memory in the queue; only a transfer's
    /// first hop is refused: a redirect or a retry of one already admitted may wait beyond the limit.
    std::size_t max_queued = 0;
    /// Keep connections open after a response that allows it, for the next request to the same origin.
    bool keep_alive = true;
    /// TCP keepalive probes on every connection (SO_KEEPALIVE; curl's --keepalive-time): a NAT or peer
    /// that silently dropped an idle pooled connection is noticed (the socket fails and the connection
    /// is not reused) before a request is written into it. First probe after tcp_keepalive_idle without
    /// traffic, then every tcp_keepalive_interval; tcp_keepalive_count unanswered probes end it.
    bool tcp_keepalive = true;
    std::chrono::seconds tcp_keepalive_idle{60};
    std::chrono::seconds tcp_keepalive_interval{60};
    int tcp_keepalive_count = 9;
    /// Most idle connections kept; the least recently used is closed first.
    std::size_t max_idle = 32;
    /// An idle connection older than this is closed rather than reused (curl's default).
    std::chrono::seconds max_idle_age{118};
    /// Resume TLS sessions across connections to the same origin (session tickets / IDs).
    bool tls_session_cache = true;
    /// Origins whose session is remembered; the least recently used is forgotten first.
    std::size_t tls_session_cache_size = 64;
    /// A new connection with no session of its origin to resume, while other connections to that origin
    /// are handshaking, waits (connected, before its handshake) for a session one of them brings and
    /// resumes it: a burst of N new connections costs one full handshake instead of N (a full handshake
    /// is ~1 ms of client CPU on a desktop core, several on a gateway's). Costs the waiting connections
    /// about one handshake and a round trip of latency: a TLS 1.3 ticket follows its handshake, and one
    /// that has not come within twice the handshake's duration is not waited for (never a response). An
    /// origin that issues no session is remembered and not waited for again. Needs tls_session_cache.
    bool share_first_handshake = true;
    /// New TLS handshakes start one at a time: the next when none is in progress or this long after the
    /// previous one started, whichever comes first; 0: all at once. A handshake's steps are CPU work on
    /// the event loop (the step that verifies the server takes ~1 ms on a desktop core): spacing them
    /// bounds how long other work on the loop, such as a blinking LED's timer, waits behind a burst of
    /// new connections, at the cost of this much start-up delay per connection on a slow network.
    std::chrono::milliseconds handshake_spacing{2};
};

/// Redirect following (301, 302, 303, 307, 308).
struct redirect_options {
    bool follow = true;
    unsigned max_redirects = 10;
    /// Follow an https URL's redirect to plain http. Off: such a redirect fails with insecure_redirect.
    bool allow_downgrade = false;
    /// Send the request's credential headers (Authorization, Cookie, API keys: core::is_secret_header)
    /// to the other origins redirected to as well (curl --location-trusted). Off: they go only to the
    /// first hop's origin. The client certificate is withheld from other origins either way.
    bool credentials_to_other_origins = false;
};

struct client_options {
    http::timeouts timeouts;
    http::limits limits;
    http::pool_options pool;
    http::redirect_options redirects;
    /// Hosts that may be connected to (first hop and every redirect), checked before DNS. Empty: any.
    std::vector<std::string> allowed_hosts;
    /// The HTTP proxy, if any (see proxy_options: options, then the environment, and no_proxy).
    proxy_options proxy;
    /// --resolve, --connect-to, -4/-6, Happy Eyeballs.
    http::connect_options connect;
    std::string user_agent = "edgeloop/0.1";
    /// Bandwidth limit of the whole client: every transfer's response body bytes together (besides each
    /// request::rate_limit; the stricter holds). Empty or 0: unlimited. client::set_rate_limit changes it
    /// while transfers run; a handle shared with another client makes both share one budget.
    http::rate_limit rate_limit;
};

} // namespace edgeloop::http
