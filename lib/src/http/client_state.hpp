#pragma once

// Private to lib/src/http: the shared state of one http::client — its TLS contexts, the connection pool,
// the queue of transfers waiting for a connection slot, and the TLS session cache.

#include "tls_stream.hpp"

#include <edgeloop/http/client.hpp>
#include <edgeloop/http/proxy.hpp>
#include <edgeloop/http/url.hpp>
#include <edgeloop/net/allowlist.hpp>
#include <edgeloop/net/name_overrides.hpp>
#include <edgeloop/net/resolver.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace edgeloop::http::detail {

class fetch_op;
class retry_op;
class connector;
struct client_state;

/// Least-recently-used cache of TLS sessions by connection key, a few per key. Owns one reference to
/// each session. A TLS 1.3 session is good for one resumption (RFC 8446 C.4; OpenSSL marks it not
/// resumable once used), and a server sends several tickets per connection: so the cache keeps the
/// newest few per key and hands each TLS 1.3 session out once. A TLS 1.2 session stays for reuse.
class session_cache {
public:
    static constexpr std::size_t per_key = 4;

    explicit session_cache(std::size_t capacity)
        : capacity_(capacity) {}
    session_cache(const session_cache&) = delete;
    session_cache& operator=(const session_cache&) = delete;
    ~session_cache() { clear(); }

    /// Sets a resumable session for key on `ssl` (taking a TLS 1.3 one out of the cache); false: none.
    bool apply(const std::string& key, SSL* ssl);
    /// True when a resumable session for key is cached.
    bool has(const std::string& key);
    /// Takes ownership of `session`, the newest for key (the oldest beyond per_key is dropped).
    void put(const std::string& key, SSL_SESSION* session) noexcept;
    void clear();
    /// Keys (origins) with at least one session.
    std::size_t size() const noexcept { return entries_.size(); }

private:
    using entry = std::pair<std::string, std::vector<SSL_SESSION*>>; ///< back: newest
    /// The entry for key, moved to the front (most recently used), with dead sessions dropped; or end.
    std::list<entry>::iterator lookup(const std::string& key);
    void erase(std::list<entry>::iterator it);

    std::size_t capacity_;
    std::list<entry> entries_; ///< front: most recently used; never an empty vector
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
    /// True when bytes that arrived are still unread: in `buffer` or inside OpenSSL (read-ahead takes in
    /// whatever the socket has, so records after a response, a close_notify included, wait there).
    bool has_unread_bytes() const noexcept { return buffer.size() != 0 || (tls && tls->has_pending()); }
    void close() noexcept;

    std::weak_ptr<client_state> state;
    std::string key;  ///< origin plus TLS identity: what may be reused for what
    std::string host; ///< for the per-host limit
    boost::asio::ip::tcp::socket socket;
    std::optional<tls_stream> tls;
    boost::beast::flat_buffer buffer;
    /// The request being written (see fetch_op::write_request): kept with the connection, so that their
    /// capacity serves the next request on it.
    std::string head;
    std::string out;
    std::chrono::steady_clock::time_point idle_since{};
    unsigned requests = 0;
    unsigned sessions_given = 0; ///< sessions the server issued on this connection
    std::string alpn;            ///< protocol the server selected in this connection's handshake
    /// The client's TLS context (trust, identity) when the connection was made: its handshake uses this
    /// one even after client::set_identity (rotation) installed another.
    std::optional<tls::context> context;
    std::uint64_t identity_generation = 0; ///< client_state::identity_generation when made
};

/// Keeps the memory of finished transfers for the next ones: a fetch_op (with its shared_ptr control
/// block) is larger than malloc's fast bins, so allocating one per transfer takes malloc's slow path.
/// One block size only (the first one given back); at most `keep` blocks. Thread-safe: a transfer may
/// be started from any thread.
class op_memory {
public:
    explicit op_memory(std::size_t keep)
        : keep_(keep) {}
    op_memory(const op_memory&) = delete;
    op_memory& operator=(const op_memory&) = delete;
    ~op_memory();

    void* allocate(std::size_t bytes);
    void deallocate(void* p, std::size_t bytes) noexcept;

private:
    std::mutex mutex_;
    std::vector<void*> free_;
    std::size_t size_ = 0;
    std::size_t keep_;
};

/// std::allocator-like front of an op_memory, for std::allocate_shared.
template <typename T>
struct op_allocator {
    using value_type = T;
    explicit op_allocator(std::shared_ptr<op_memory> m) noexcept
        : memory(std::move(m)) {}
    template <typename U>
    op_allocator(const op_allocator<U>& other) noexcept
        : memory(other.memory) {}
    T* allocate(std::size_t n) { return static_cast<T*>(memory->allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { memory->deallocate(p, n * sizeof(T)); }
    template <typename U>
    bool operator==(const op_allocator<U>& other) const noexcept {
        return memory == other.memory;
    }

    std::shared_ptr<op_memory> memory;
};

struct client_state : std::enable_shared_from_this<client_state> {
    client_state(boost::asio::any_io_executor executor, client_options options);

    boost::asio::any_io_executor ex;
    client_options opts;
    /// Trust and client identity. Connections to other origins after a redirect use the same context
    /// with the identity cleared on their SSL (fetch_op::configure_tls): a client certificate is never
    /// presented to a host it was not configured for.
    std::optional<tls::context> tls;
    /// Bumped by each rotation (client::set_identity): TLS connection keys carry it, so pooled
    /// connections and cached sessions of one identity never serve another (identity_key_suffix()).
    std::uint64_t identity_generation = 0;
    /// What TLS connection keys end with for `generation`: nothing for the first identity.
    static std::string identity_key_suffix(std::uint64_t generation);
    /// Installs ctx for new connections (rotation): see client::set_tls_context.
    void rotate_tls(tls::context ctx);
    edgeloop::net::allowlist allow;
    edgeloop::net::name_overrides names; ///< connect_options::connect_to and resolve
    /// Names to addresses (c-ares on the loop, with the DNS cache): made at the first lookup, or by the
    /// constructor when connect_options::dns_servers is set (a malformed one throws there).
    edgeloop::net::resolver& resolver();
    std::unique_ptr<edgeloop::net::resolver> dns;
    session_cache sessions;
    /// The proxy variables of the environment when the client was made (proxy_options::from_environment).
    std::unordered_map<std::string, std::string> proxy_env;
    /// A proxy URL is set in the options or the environment: each hop selects (no_proxy) its proxy.
    bool proxy_configured = false;
    /// proxy selection for one hop's target (select_proxy over opts.proxy and proxy_env).
    boost::system::result<proxy_choice> choose_proxy(bool https_target, std::string_view host) const;
    /// The TLS context for https:// proxies (proxy_options::ca_file, ca_dir, insecure; no client
    /// identity), made at the first connection to one (proxy_tls.cpp: proxy_tls_context).
    std::optional<tls::context> proxy_tls;

    std::unordered_set<fetch_op*> active;
    /// Transfers with retries or a range (retry_op): cancel_all() reaches them between attempts too.
    std::unordered_set<retry_op*> retrying;
    /// Bumped by cancel_all(): a transfer initiated before it but not yet started is cancelled too.
    std::atomic<std::uint64_t> cancel_epoch{0};
    std::list<std::shared_ptr<fetch_op>> waiting; ///< FIFO of transfers waiting for a connection slot
    /// Transfers initiated whose start (posted) has not run yet: each may join `waiting` when it does.
    std::atomic<std::size_t> starting{0};
    /// pool_options::max_queued allows one more transfer to be started now without any being refused.
    bool queue_has_room() const noexcept {
        return opts.pool.max_queued == 0 || waiting.size() + starting.load() < opts.pool.max_queued;
    }
    /// Called (posted, coalesced) after the queue may have got room; expired ones are dropped. A multi
    /// with transfers waiting in async_add listens here.
    std::vector<std::weak_ptr<std::function<void()>>> room_listeners;
    /// The queue may have room now: tells the listeners (posted; nothing when there is no bound).
    void room_freed();
    std::list<std::shared_ptr<connection>> idle; ///< back: most recently used
    /// The last URL parse_url accepted and its parts: transfers usually repeat a URL, and a parse costs
    /// more than the comparison (a cache of one: no eviction, no growth).
    std::string parsed_url;
    url_parts parsed_url_parts;
    std::string parsed_url_authority; ///< parsed_url_parts.authority()
    std::string parsed_url_origin;    ///< scheme://authority, the pool key's origin

    /// Response body buffers (limits::body_chunk_bytes each) of finished transfers, for the next ones:
    /// a 16 KiB allocation per transfer is a large-bin malloc that also consolidates the heap.
    std::vector<std::shared_ptr<unsigned char[]>> spare_chunks;
    /// Memory of finished transfers (shared: a transfer's control block may outlive the client).
    std::shared_ptr<op_memory> ops;
    /// A buffer of `bytes` (a spare one when that is the client's limits::body_chunk_bytes).
    std::shared_ptr<unsigned char[]> take_chunk(std::size_t bytes);
    /// Keeps `chunk` (of `bytes`) for a later transfer unless someone else still holds it (a paced
    /// consumer) or it is not of the client's size (a request's own limits).
    void give_back_chunk(std::shared_ptr<unsigned char[]> chunk, std::size_t bytes) noexcept;

    /// pool_options::share_first_handshake: per key, the connections whose handshake may still bring a
    /// session (until their first response head), the transfers waiting for one (connected, before their
    /// handshake), and keys that gave no session (not waited for again).
    std::unordered_map<std::string, std::size_t> session_sources;
    std::unordered_map<std::string, std::vector<std::shared_ptr<connector>>> session_waiters;
    std::unordered_set<std::string> sessionless;
    /// A session for key is cached: the longest-waiting transfer for one goes on (posted).
    void session_arrived(const std::string& key);
    /// A source of sessions for key is done; when none is left, every transfer waiting goes on.
    void session_source_done(const std::string& key);

    /// TLS handshakes in progress, when the last one started, and the transfers waiting for their turn
    /// (pool_options::handshake_spacing).
    std::size_t handshaking = 0;
    std::chrono::steady_clock::time_point last_handshake_start{};
    std::list<std::shared_ptr<connector>> handshake_queue;
    std::optional<boost::asio::steady_timer> spacing_timer;
    bool spacing_timer_armed = false;
    /// True (and counted as started) when a handshake may start now; false: the caller queues.
    bool begin_handshake();
    /// A handshake ended (or its transfer gave up its turn).
    void handshake_slot_freed();
    /// Starts the queued handshakes whose turn has come; arms spacing_timer for the next one.
    void start_queued_handshakes();

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
    bool room_posted_ = false;
};

/// SSL ex_data slot pointing at the connection a session belongs to.
int connection_ex_index();

} // namespace edgeloop::http::detail
