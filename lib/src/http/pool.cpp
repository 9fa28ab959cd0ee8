// The client's connection pool, connection-slot queue and TLS session cache.
#include "client_state.hpp"
#include "connector.hpp"
#include "fetch_op.hpp"

#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace edgeloop::http::detail {

namespace net = boost::asio;

std::list<session_cache::entry>::iterator session_cache::lookup(const std::string& key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->first != key)
            continue;
        auto& sessions = it->second;
        std::erase_if(sessions, [](SSL_SESSION* s) {
            if (SSL_SESSION_is_resumable(s) == 1)
                return false;
            SSL_SESSION_free(s); // used up (TLS 1.3) or otherwise dead
            return true;
        });
        if (sessions.empty()) {
            entries_.erase(it);
            return entries_.end();
        }
        entries_.splice(entries_.begin(), entries_, it);
        return entries_.begin();
    }
    return entries_.end();
}

void session_cache::erase(std::list<entry>::iterator it) {
    for (SSL_SESSION* s : it->second)
        SSL_SESSION_free(s);
    entries_.erase(it);
}

bool session_cache::has(const std::string& key) {
    return lookup(key) != entries_.end();
}

bool session_cache::apply(const std::string& key, SSL* ssl) {
    auto it = lookup(key);
    if (it == entries_.end())
        return false;
    auto& sessions = it->second;
    SSL_SESSION* newest = sessions.back();
    if (SSL_set_session(ssl, newest) != 1)
        return false;
    if (SSL_SESSION_get_protocol_version(newest) >= TLS1_3_VERSION) {
        sessions.pop_back(); // single use: the SSL holds its own reference now
        SSL_SESSION_free(newest);
        if (sessions.empty())
            entries_.erase(it);
    }
    return true;
}

void session_cache::put(const std::string& key, SSL_SESSION* session) noexcept {
    try {
        auto it = lookup(key);
        if (it == entries_.end()) {
            std::vector<SSL_SESSION*> sessions;
            sessions.reserve(per_key); // push_back below never reallocates
            sessions.push_back(session);
            entries_.emplace_front(key, std::move(sessions));
        } else {
            auto& sessions = it->second;
            if (sessions.size() >= per_key) {
                SSL_SESSION_free(sessions.front());
                sessions.erase(sessions.begin());
            }
            sessions.push_back(session);
        }
    } catch (...) { // out of memory: the session is simply not kept
        SSL_SESSION_free(session);
        return;
    }
    while (entries_.size() > capacity_)
        erase(std::prev(entries_.end()));
}

void session_cache::clear() {
    while (!entries_.empty())
        erase(entries_.begin());
}

int connection_ex_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

namespace {

/// OpenSSL calls this when the server issues a session (for TLS 1.3: a ticket after the handshake).
int on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* c = static_cast<connection*>(SSL_get_ex_data(ssl, connection_ex_index()));
    if (c == nullptr)
        return 0;
    auto state = c->state.lock();
    if (!state || !state->opts.pool.tls_session_cache || state->opts.pool.tls_session_cache_size == 0)
        return 0;
    state->sessions.put(c->key, session);
    ++c->sessions_given;
    try {
        state->session_arrived(c->key); // a connection waiting for one can resume it now
    } catch (...) { // out of memory (no exception may cross OpenSSL): that one ends at its handshake deadline
    }
    return 1; // the cache now owns the reference
}

} // namespace

connection::connection(const std::shared_ptr<client_state>& s, std::string k, std::string h)
    : state(s)
    , key(std::move(k))
    , host(std::move(h))
    , socket(s->ex)
    , context(s->tls)
    , identity_generation(s->identity_generation) {
    ++s->open_total;
    ++s->open_per_host[host];
}

connection::~connection() {
    if (auto s = state.lock()) {
        --s->open_total;
        if (--s->open_per_host[host] == 0)
            s->open_per_host.erase(host);
        s->wake();
    }
}

bool connection::looks_alive() {
    if (has_unread_bytes())
        return false; // bytes after the last response: never reuse such a connection
    char probe;
    const auto n = ::recv(lowest().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void connection::close() noexcept {
    boost::system::error_code ignored;
    lowest().close(ignored);
}

client_state::client_state(net::any_io_executor executor, client_options options)
    : ex(std::move(executor))
    , opts(std::move(options))
    , allow(opts.allowed_hosts)
    , names(opts.connect.connect_to, opts.connect.resolve)
    , sessions(opts.pool.tls_session_cache_size)
    , ops(std::make_shared<op_memory>(
          opts.pool.max_total == 0 ? 64 : std::min<std::size_t>(opts.pool.max_total, 256))) {
    // The proxy environment is read once, here: getenv per transfer would cost, and is not thread-safe
    // against setenv.
    if (opts.proxy.from_environment)
        for (const char* name :
             {"https_proxy", "HTTPS_PROXY", "http_proxy", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"})
            if (const char* v = std::getenv(name); v != nullptr && *v != '\0')
                proxy_env.emplace(name, v);
    if (!opts.connect.dns_servers.empty())
        resolver();
    proxy_configured = !opts.proxy.url.empty() || proxy_env.contains("https_proxy") ||
                       proxy_env.contains("HTTPS_PROXY") || proxy_env.contains("http_proxy") ||
                       proxy_env.contains("all_proxy") || proxy_env.contains("ALL_PROXY");
}

edgeloop::net::resolver& client_state::resolver() {
    if (!dns)
        dns = std::make_unique<edgeloop::net::resolver>(
            ex, edgeloop::net::resolver_options{.servers = opts.connect.dns_servers,
                                                .cache_ttl = opts.connect.dns_cache_ttl});
    return *dns;
}

boost::system::result<proxy_choice> client_state::choose_proxy(bool https_target,
                                                               std::string_view host) const {
    return select_proxy(opts.proxy, https_target, host, [this](const char* name) -> const char* {
        const auto it = proxy_env.find(name);
        return it == proxy_env.end() ? nullptr : it->second.c_str();
    });
}

op_memory::~op_memory() {
    for (void* p : free_)
        ::operator delete(p);
}

void* op_memory::allocate(std::size_t bytes) {
    {
        std::lock_guard lock(mutex_);
        if (bytes == size_ && !free_.empty()) {
            void* p = free_.back();
            free_.pop_back();
            return p;
        }
    }
    return ::operator new(bytes);
}

void op_memory::deallocate(void* p, std::size_t bytes) noexcept {
    {
        std::lock_guard lock(mutex_);
        if (size_ == 0)
            size_ = bytes;
        if (bytes == size_ && free_.size() < keep_) {
            try {
                free_.push_back(p);
                return;
            } catch (...) { // out of memory: freed below
            }
        }
    }
    ::operator delete(p);
}

std::shared_ptr<unsigned char[]> client_state::take_chunk(std::size_t bytes) {
    if (spare_chunks.empty() || bytes != opts.limits.body_chunk_bytes) // not zero-filled: only bytes
        return std::make_shared_for_overwrite<unsigned char[]>(bytes); // read into it are ever used
    auto chunk = std::move(spare_chunks.back());
    spare_chunks.pop_back();
    return chunk;
}

void client_state::give_back_chunk(std::shared_ptr<unsigned char[]> chunk, std::size_t bytes) noexcept {
    // As many as transfers can run at once (all connections busy), within reason.
    const std::size_t keep = opts.pool.max_total == 0 ? 64 : std::min<std::size_t>(opts.pool.max_total, 256);
    if (chunk && chunk.use_count() == 1 && bytes == opts.limits.body_chunk_bytes &&
        spare_chunks.size() < keep) {
        try {
            spare_chunks.push_back(std::move(chunk));
        } catch (...) { // out of memory: the buffer is simply freed
        }
    }
}

void client_state::enable_session_callbacks(tls::context& ctx) {
    SSL_CTX* native = ctx.native().native_handle();
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, on_new_session);
}

bool client_state::make_room(const std::string& host) {
    const auto fits = [&] {
        const bool total_ok = opts.pool.max_total == 0 || open_total < opts.pool.max_total;
        auto it = open_per_host.find(host);
        const bool host_ok =
            opts.pool.max_per_host == 0 || it == open_per_host.end() || it->second < opts.pool.max_per_host;
        return total_ok && host_ok;
    };
    while (!fits()) {
        // Close the least recently used idle connection that is in the way.
        const bool host_full = opts.pool.max_per_host != 0 && open_per_host.count(host) != 0 &&
                               open_per_host[host] >= opts.pool.max_per_host;
        auto victim = idle.begin();
        if (host_full)
            while (victim != idle.end() && (*victim)->host != host)
                ++victim;
        if (victim == idle.end())
            return false;
        idle.erase(victim);
    }
    return true;
}

std::shared_ptr<connection> client_state::take_idle(const std::string& key) {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle.begin(); it != idle.end();) {
        if (now - (*it)->idle_since > opts.pool.max_idle_age)
            it = idle.erase(it);
        else
            ++it;
    }
    for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
        if ((*it)->key != key)
            continue;
        auto c = std::move(*it);
        idle.erase(std::next(it).base());
        if (c->looks_alive())
            return c;
        return nullptr; // closed by the server while idle: the caller opens a fresh one
    }
    return nullptr;
}

void client_state::release(std::shared_ptr<connection> c) {
    if (!opts.pool.keep_alive || opts.pool.max_idle == 0)
        return;
    if (c->tls && c->identity_generation != identity_generation)
        return; // made with an identity rotated out since (client::set_identity): closed, not pooled
    c->idle_since = std::chrono::steady_clock::now();
    idle.push_back(std::move(c));
    // A queued transfer may take this connection: trim only after the queue has had its turn, or a
    // busy pool with more connections than max_idle closes connections only to open new ones.
    if (waiting.empty())
        trim_idle();
    else
        wake();
}

void client_state::trim_idle() {
    while (idle.size() > opts.pool.max_idle)
        idle.pop_front();
}

void client_state::session_arrived(const std::string& key) {
    auto it = session_waiters.find(key);
    if (it == session_waiters.end())
        return;
    if (it->second.empty()) { // never left so, but cheap to be sure
        session_waiters.erase(it);
        return;
    }
    auto op = std::move(it->second.front());
    it->second.erase(it->second.begin());
    if (it->second.empty())
        session_waiters.erase(it);
    net::post(ex, [op = std::move(op)] { op->session_ready(); });
}

void client_state::session_source_done(const std::string& key) {
    auto sources = session_sources.find(key);
    if (sources != session_sources.end() && --sources->second > 0)
        return;
    if (sources != session_sources.end())
        session_sources.erase(sources);
    auto it = session_waiters.find(key);
    if (it == session_waiters.end())
        return;
    auto waiters = std::move(it->second);
    session_waiters.erase(it);
    for (auto& op : waiters)
        net::post(ex, [op = std::move(op)] { op->session_ready(); });
}

bool client_state::begin_handshake() {
    const auto now = std::chrono::steady_clock::now();
    const auto spacing = opts.pool.handshake_spacing;
    if (!handshake_queue.empty() ||
        (spacing.count() > 0 && handshaking > 0 && now - last_handshake_start < spacing))
        return false; // first come, first served
    ++handshaking;
    last_handshake_start = now;
    return true;
}

void client_state::handshake_slot_freed() {
    if (handshaking > 0)
        --handshaking;
    start_queued_handshakes();
}

void client_state::start_queued_handshakes() {
    while (!handshake_queue.empty()) {
        const auto now = std::chrono::steady_clock::now();
        const auto next = last_handshake_start + opts.pool.handshake_spacing;
        if (handshaking > 0 && now < next) {
            if (!spacing_timer_armed) {
                if (!spacing_timer)
                    spacing_timer.emplace(ex);
                spacing_timer_armed = true;
                spacing_timer->expires_at(next);
                spacing_timer->async_wait([weak = weak_from_this()](const boost::system::error_code&) {
                    if (auto self = weak.lock()) {
                        self->spacing_timer_armed = false;
                        self->start_queued_handshakes();
                    }
                });
            }
            return;
        }
        auto op = std::move(handshake_queue.front());
        handshake_queue.pop_front();
        ++handshaking; // counted for it now, so that no other transfer overtakes it meanwhile
        last_handshake_start = now;
        op->handshake_slot_granted();
    }
}

void client_state::close_idle() {
    idle.clear();
}

void client_state::wake() {
    if (wake_posted_ || waiting.empty())
        return;
    wake_posted_ = true;
    net::post(ex, [self = shared_from_this()] {
        self->wake_posted_ = false;
        self->drain_queue();
    });
}

void client_state::room_freed() {
    if (room_posted_ || opts.pool.max_queued == 0 || room_listeners.empty())
        return;
    room_posted_ = true;
    net::post(ex, [self = shared_from_this()] {
        self->room_posted_ = false;
        // Copied: a listener may add or drop listeners.
        const auto listeners = self->room_listeners;
        std::erase_if(self->room_listeners, [](const auto& w) { return w.expired(); });
        for (const auto& weak : listeners)
            if (auto listener = weak.lock())
                (*listener)();
    });
}

void client_state::drain_queue() {
    // The queue is walked out of `waiting`: try_acquire can complete a transfer on the spot (its request
    // fails as it is written on an idle connection: a body file gone, a body_source that cancels), and
    // completion takes a transfer out of `waiting`; user code run meanwhile (a body_source) may cancel
    // others. Neither may free the node the walk stands on.
    auto queue = std::move(waiting);
    waiting.clear();
    const std::size_t before = queue.size();
    std::list<std::shared_ptr<fetch_op>> still_waiting;
    // FIFO, but a transfer blocked only by its own host's limit does not hold up the others.
    while (!queue.empty()) {
        // Every connection busy at the total limit: no waiting transfer can start, so stop here
        // rather than try each of a long queue (quadratic in its length).
        if (idle.empty() && opts.pool.max_total != 0 && open_total >= opts.pool.max_total)
            break;
        auto op = std::move(queue.front());
        queue.pop_front();
        if (op->try_acquire())
            op->dequeued();
        else
            still_waiting.push_back(std::move(op));
    }
    still_waiting.splice(still_waiting.end(), queue);
    // Cancelled meanwhile (complete() found them in no queue): they wait for nothing any more.
    still_waiting.remove_if([](const std::shared_ptr<fetch_op>& op) {
        if (!op->completed())
            return false;
        op->dequeued();
        return true;
    });
    // Anything queued meanwhile comes after these.
    const bool shrank = still_waiting.size() < before;
    waiting.splice(waiting.begin(), still_waiting);
    trim_idle();
    if (shrank)
        room_freed();
}

} // namespace edgeloop::http::detail
