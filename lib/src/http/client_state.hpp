#pragma once

// Private to lib/src/http: the shared state of one http::client — its TLS contexts, the connection pool,
// the queue of transfers waiting for a connection slot, and the TLS session cache.

#include "tls_stream.hpp"

#include <edgeloop/http/client.hpp>
#include <edgeloop/http/url.hpp>
#include <edgeloop/net/allowlist.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace edgeloop::http::detail {

class fetch_op;
struct client_state;

/// Least-recently-used cache of TLS sessions by connection key. Owns one reference to each session.
class session_cache {
public:
    explicit session_cache(std::size_t capacity)
        : capacity_(capacity) {}
    session_cache(const session_cache&) = delete;
    session_cache& operator=(const session_cache&) = delete;
    ~session_cache() { clear(); }

    /// The session for key (still owned by the cache), or nullptr.
    SSL_SESSION* find(const std::string& key);
    /// Takes ownership of `session`, replacing any older one for key.
    void put(const std::string& key, SSL_SESSION* session);
    void clear();
    std::size_t size() const noexcept { return entries_.size(); }

private:
    std::size_t capacity_;
    std::list<std::pair<std::string, SSL_SESSION*>> entries_; ///< front: most recently used
};

/// One TCP (and TLS) connection. Counted as open in its client's limits for its whole life.
class connection {
public:
    connection(const std::shared_ptr<client_state>& state, std::string key, std::string host);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    boost::asio::ip::tcp::socket& lowest() noexcept { return tls ? tls->next_layer() : socket; }
    /// True when an idle connection still looks usable: nothing to read and not closed by the peer.
    bool looks_alive();
    void close() noexcept;

    std::weak_ptr<client_state> state;
    std::string key;  ///< origin plus TLS identity: what may be reused for what
    std::string host; ///< for the per-host limit
    boost::asio::ip::tcp::socket socket;
    std::optional<tls_stream> tls;
    boost::beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since{};
    unsigned requests = 0;
    std::string alpn; ///< protocol the server selected in this connection's handshake
};

struct client_state : std::enable_shared_from_this<client_state> {
    client_state(boost::asio::any_io_executor executor, client_options options);

    boost::asio::any_io_executor ex;
    client_options opts;
    /// Trust + client identity, and the same trust without the identity (for other origins after a
    /// redirect: a client certificate is never presented to a host it was not configured for).
    std::optional<tls::context> tls;
    std::optional<tls::context> tls_anonymous;
    edgeloop::net::allowlist allow;
    session_cache sessions;

    std::unordered_set<fetch_op*> active;
    /// Bumped by cancel_all(): a transfer initiated before it but not yet started is cancelled too.
    std::atomic<std::uint64_t> cancel_epoch{0};
    std::list<std::shared_ptr<fetch_op>> waiting; ///< FIFO of transfers waiting for a connection slot
    std::list<std::shared_ptr<connection>> idle;  ///< back: most recently used
    /// The last URL parse_url accepted and its parts: transfers usually repeat a URL, and a parse costs
    /// more than the comparison (a cache of one: no eviction, no growth).
    std::string parsed_url;
    url_parts parsed_url_parts;
    std::string parsed_url_authority; ///< parsed_url_parts.authority()
    std::string parsed_url_origin;    ///< scheme://authority, the pool key's origin

    std::size_t open_total = 0;
    std::unordered_map<std::string, std::size_t> open_per_host;

    /// True when a new connection to host fits the limits, closing idle connections to make room.
    bool make_room(const std::string& host);
    /// An idle, live connection for key, or nullptr. Drops expired and dead ones on the way.
    std::shared_ptr<connection> take_idle(const std::string& key);
    /// Keeps a connection whose response allowed it for the next request to its origin.
    void release(std::shared_ptr<connection> c);
    /// Lets queued transfers take freed slots (posted, so never re-entrant).
    void wake();
    void close_idle();
    void enable_session_callbacks(tls::context& ctx);

private:
    void drain_queue();
    /// Closes the least recently used idle connections beyond pool_options::max_idle.
    void trim_idle();
    bool wake_posted_ = false;
};

/// SSL ex_data slot pointing at the connection a session belongs to.
int connection_ex_index();

} // namespace edgeloop::http::detail
