// DNS through c-ares driven by the event loop: c-ares tells which sockets it wants watched
// (ARES_OPT_SOCK_STATE_CB), each is waited on with a posix::stream_descriptor that never owns it, and one
// timer follows ares_timeout(). Nothing blocks, so a server that never answers one name delays no other.
#include <edgeloop/net/resolver.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <ares.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace edgeloop::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS)
            throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
    });
}

/// One c-ares channel (one reading of the configuration) and the watches on its sockets. Owned by its
/// resolver only (waits and the timer hold weak_ptrs, queries a plain pointer): destroying the resolver
/// ends everything, pending queries included. A channel replaced after a configuration change is kept
/// until its queries are done.
struct channel : std::enable_shared_from_this<channel> {
    struct watch {
        watch(const asio::any_io_executor& ex, int fd)
            : descriptor(ex, fd) {}
        asio::posix::stream_descriptor descriptor; ///< released, never closed: the socket is c-ares's
        bool want_read = false, want_write = false, reading = false, writing = false, closed = false;
    };

    channel(asio::any_io_executor executor, const resolver_options& o)
        : ex(std::move(executor))
        , timer(ex) {
        ares_options opts{};
        int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
        std::string conf = o.resolv_conf; // c-ares wants a char*
        if (!conf.empty() && conf != "/etc/resolv.conf") {
            mask |= ARES_OPT_RESOLVCONF;
            opts.resolvconf_path = conf.data();
        }
        opts.sock_state_cb = &channel::on_state;
        opts.sock_state_cb_data = this;
        opts.timeout = static_cast<int>(std::max<long long>(1, o.try_timeout.count()));
        opts.tries = std::max(1, o.tries);
        if (const int rc = ares_init_options(&ch, &opts, mask); rc != ARES_SUCCESS)
            throw std::runtime_error(std::string("c-ares: cannot start: ") + ares_strerror(rc));
        if (!o.servers.empty()) {
            std::string csv;
            for (const auto& s : o.servers)
                csv += (csv.empty() ? "" : ",") + s;
            if (const int rc = ares_set_servers_ports_csv(ch, csv.c_str()); rc != ARES_SUCCESS) {
                ares_destroy(ch);
                throw std::invalid_argument("DNS servers '" + csv + "': " + ares_strerror(rc) +
                                            " (expected IP or IP:PORT, [IPv6]:PORT, comma separated)");
            }
        }
    }

    ~channel() {
        ares_destroy(ch); // pending queries end with ARES_EDESTRUCTION; closes its sockets (on_state)
        for (auto& [fd, w] : sockets)
            forget(*w);
    }

    static void forget(watch& w) {
        w.closed = true;
        error_code ignored;
        w.descriptor.cancel(ignored);
        w.descriptor.release();
    }

    static void on_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<channel*>(data);
        auto it = self->sockets.find(fd);
        if (!readable && !writable) {
            if (it != self->sockets.end()) {
                forget(*it->second);
                self->sockets.erase(it);
            }
            return;
        }
        if (it == self->sockets.end())
            it = self->sockets.emplace(fd, std::make_shared<watch>(self->ex, fd)).first;
        it->second->want_read = readable != 0;
        it->second->want_write = writable != 0;
        self->arm(it->second, fd);
    }

    void arm(const std::shared_ptr<watch>& w, int fd) {
        if (w->want_read && !w->reading) {
            w->reading = true;
            w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                     [weak = weak_from_this(), w, fd](const error_code& ec) {
                                         w->reading = false;
                                         auto self = weak.lock();
                                         if (ec || w->closed || !self)
                                             return;
                                         ares_process_fd(self->ch, fd, ARES_SOCKET_BAD);
                                         if (!w->closed)
                                             self->arm(w, fd);
                                         self->update_timer();
                                     });
        }
        if (w->want_write && !w->writing) {
            w->writing = true;
            w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                     [weak = weak_from_this(), w, fd](const error_code& ec) {
                                         w->writing = false;
                                         auto self = weak.lock();
                                         if (ec || w->closed || !self)
                                             return;
                                         ares_process_fd(self->ch, ARES_SOCKET_BAD, fd);
                                         if (!w->closed)
                                             self->arm(w, fd);
                                         self->update_timer();
                                     });
        }
    }

    /// Follows c-ares's next timeout (a retry, or giving up on a server); none when nothing is pending.
    void update_timer() {
        timeval tv{};
        if (ares_timeout(ch, nullptr, &tv) == nullptr) {
            if (timer_armed) {
                timer_armed = false;
                timer.cancel();
            }
            return;
        }
        timer_armed = true;
        timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
        timer.async_wait([weak = weak_from_this()](const error_code& ec) {
            auto self = weak.lock();
            if (ec || !self)
                return;
            self->timer_armed = false;
            ares_process_fd(self->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            self->update_timer();
        });
    }

    asio::any_io_executor ex;
    ares_channel ch = nullptr;
    asio::steady_timer timer;
    bool timer_armed = false;
    std::unordered_map<int, std::shared_ptr<watch>> sockets;
    std::size_t pending = 0; ///< queries not yet completed
};

/// What identifies a version of the configuration file.
struct file_stamp {
    bool exists = false;
    long long mtime_ns = 0;
    long long size = 0;
    unsigned long long inode = 0;
    bool operator==(const file_stamp&) const = default;
};

file_stamp stamp_of(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0)
        return {};
    return {true, static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec,
            static_cast<long long>(st.st_size), static_cast<unsigned long long>(st.st_ino)};
}

std::string cache_key(std::string_view host) {
    std::string key(host);
    if (!key.empty() && key.back() == '.')
        key.pop_back();
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return key;
}

} // namespace

struct resolver::impl : std::enable_shared_from_this<resolver::impl> {
    struct cached {
        std::vector<asio::ip::address> addresses;
        std::chrono::steady_clock::time_point expires;
    };
    struct query {
        std::weak_ptr<impl> owner;
        channel* chan = nullptr;
        std::string key;
        asio::any_completion_handler<signature> handler;
    };

    impl(asio::any_io_executor executor, resolver_options o)
        : ex(std::move(executor))
        , opts(std::move(o)) {
        init_library();
        conf = stamp_of(opts.resolv_conf);
        current = std::make_shared<channel>(ex, opts); // a bad server list throws here, in the constructor
    }

    static void on_done(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
        std::unique_ptr<query> q(static_cast<query*>(arg));
        if (status == ARES_EDESTRUCTION)
            return; // the resolver is being destroyed: the lookup is abandoned, its handler destroyed
        --q->chan->pending;
        auto owner = q->owner.lock();
        if (owner && q->chan->pending == 0 && q->chan != owner->current.get())
            owner->retire_later(q->chan);
        resolve_answer answer;
        if (status == ARES_SUCCESS && res != nullptr) {
            for (const ares_addrinfo_node* n = res->nodes; n != nullptr; n = n->ai_next) {
                if (n->ai_family == AF_INET) {
                    const auto* sa = reinterpret_cast<const sockaddr_in*>(n->ai_addr);
                    asio::ip::address_v4::bytes_type b;
                    std::memcpy(b.data(), &sa->sin_addr, b.size());
                    answer.addresses.emplace_back(asio::ip::address_v4(b));
                } else if (n->ai_family == AF_INET6) {
                    const auto* sa = reinterpret_cast<const sockaddr_in6*>(n->ai_addr);
                    asio::ip::address_v6::bytes_type b;
                    std::memcpy(b.data(), &sa->sin6_addr, b.size());
                    answer.addresses.emplace_back(asio::ip::address_v6(b, sa->sin6_scope_id));
                }
            }
        }
        if (res != nullptr)
            ares_freeaddrinfo(res);
        error_code ec;
        switch (status) {
        case ARES_SUCCESS:
            if (answer.addresses.empty()) {
                ec = asio::error::host_not_found;
                answer.detail = "no address";
            }
            break;
        case ARES_ENOTFOUND:
        case ARES_ENODATA:
        case ARES_ENONAME:
        case ARES_EBADNAME:
            ec = asio::error::host_not_found;
            break;
        case ARES_ETIMEOUT:
            ec = asio::error::timed_out;
            break;
        case ARES_EDESTRUCTION:
        case ARES_ECANCELLED:
            ec = asio::error::operation_aborted;
            break;
        default:
            ec = asio::error::host_not_found_try_again; // server failure, refused, unreachable
            break;
        }
        if (ec && answer.detail.empty())
            answer.detail = std::string("DNS: ") + ares_strerror(status);
        if (!ec && owner)
            owner->remember(q->key, answer.addresses);
        // Completed from a posted function, never inside c-ares: the handler may start a lookup, and the
        // channel (released with the query) may be destroyed.
        complete(q->chan->ex, std::move(q->handler), ec, std::move(answer));
    }

    /// Calls the handler from a posted function. The handler stays in one place on the heap: Boost 1.81's
    /// any_completion_handler taken by lvalue reference wraps itself again and again (its converting
    /// constructor is not constrained against its own type), so it is only ever moved, once.
    static void complete(const asio::any_io_executor& ex, asio::any_completion_handler<signature> handler,
                         error_code ec, resolve_answer answer) {
        struct completion {
            asio::any_completion_handler<signature> handler;
            error_code ec;
            resolve_answer answer;
        };
        auto c = std::unique_ptr<completion>(new completion{std::move(handler), ec, std::move(answer)});
        asio::post(ex, [c = std::move(c)]() mutable { std::move(c->handler)(c->ec, std::move(c->answer)); });
    }

    void remember(const std::string& key, const std::vector<asio::ip::address>& addresses) {
        if (opts.cache_ttl.count() <= 0)
            return;
        const auto now = std::chrono::steady_clock::now();
        if (cache.size() >= 256)
            std::erase_if(cache, [now](const auto& e) { return e.second.expires <= now; });
        if (cache.size() >= 256)
            cache.clear();
        cache[key] = {addresses, now + opts.cache_ttl};
    }

    /// A replaced channel whose last query is done goes (posted: never inside its own c-ares call).
    void retire_later(channel* c) {
        asio::post(ex, [weak = weak_from_this(), c] {
            if (auto self = weak.lock())
                std::erase_if(self->retired, [c](const std::shared_ptr<channel>& r) { return r.get() == c; });
        });
    }

    asio::any_io_executor ex;
    resolver_options opts;
    file_stamp conf;
    std::shared_ptr<channel> current;
    std::vector<std::shared_ptr<channel>> retired; ///< replaced, with queries still pending
    std::unordered_map<std::string, cached> cache;
    std::size_t lookups = 0;
    std::size_t reloads = 0;
};

resolver::resolver(asio::any_io_executor ex, resolver_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(options))) {}

resolver::~resolver() = default;

std::size_t resolver::lookups() const noexcept {
    return impl_->lookups;
}

std::size_t resolver::reloads() const noexcept {
    return impl_->reloads;
}

void resolver::initiate(std::string host, asio::any_completion_handler<signature> handler) {
    impl& m = *impl_;
    std::string key = cache_key(host);
    if (m.opts.cache_ttl.count() > 0) {
        if (auto it = m.cache.find(key); it != m.cache.end()) {
            if (it->second.expires > std::chrono::steady_clock::now()) {
                impl::complete(m.ex, std::move(handler), {}, resolve_answer{it->second.addresses, true, {}});
                return;
            }
            m.cache.erase(it);
        }
    }
    // The configuration changed (a link came up with another DNS server): a fresh channel reads it; the
    // old one finishes its queries.
    if (const auto now = stamp_of(m.opts.resolv_conf); !(now == m.conf)) {
        m.conf = now;
        try {
            auto fresh = std::make_shared<channel>(m.ex, m.opts);
            if (m.current->pending != 0)
                m.retired.push_back(std::move(m.current));
            m.current = std::move(fresh);
            ++m.reloads;
            m.cache.clear();
        } catch (const std::exception&) { // keep the channel there is
        }
    }
    ++m.lookups;
    std::unique_ptr<impl::query> q(
        new impl::query{impl_, m.current.get(), std::move(key), std::move(handler)});
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    const auto chan = m.current; // on_done may run inside ares_getaddrinfo (/etc/hosts, a literal)
    ++chan->pending;
    // c-ares matches /etc/hosts only without the root's trailing dot ("localhost." would go to DNS and
    // fail), which getaddrinfo accepted: the name is looked up without it.
    if (!host.empty() && host.back() == '.')
        host.pop_back();
    ares_getaddrinfo(chan->ch, host.c_str(), nullptr, &hints, &impl::on_done, q.release());
    chan->update_timer();
}

} // namespace edgeloop::net
