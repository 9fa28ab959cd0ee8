#include <support/fault_server.hpp>
#include <support/servers.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <list>
#include <mutex>
#include <optional>

namespace edgeloop::test {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace fault {

std::string ok_response() {
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
}

fault_step serve_ok() {
    return answer(ok_response());
}

fault_step answer(std::string response, fault_action then) {
    return {read_request(), send(std::move(response)), std::move(then)};
}

} // namespace fault

namespace {

/// The ALPN protocols the server accepts, in wire format, and OpenSSL's selection callback over them.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void* arg) {
    const auto* accepted = static_cast<const std::vector<std::string>*>(arg);
    for (const auto& mine : *accepted)
        for (unsigned i = 0; i < inlen; i += 1u + in[i])
            if (in[i] == mine.size() && std::equal(mine.begin(), mine.end(), in + i + 1)) {
                *out = in + i + 1;
                *outlen = in[i];
                return SSL_TLSEXT_ERR_OK;
            }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

} // namespace

struct fault_connection;

struct fault_server::state : std::enable_shared_from_this<fault_server::state> {
    state(net::io_context& ioc, std::vector<fault_step> s, fault_server_options o)
        : script(std::move(s))
        , opts(std::move(o))
        , acceptor(ioc, {net::ip::make_address(opts.address), opts.port}) {}

    std::vector<fault_step> script;
    fault_server_options opts;
    std::optional<ssl::context> tls;
    tcp::acceptor acceptor;
    std::uint16_t port = acceptor.local_endpoint().port();
    std::vector<int> backlog_fillers;
    std::list<std::weak_ptr<fault_connection>> connections;
    std::vector<std::shared_ptr<fault_connection>> stalled;
    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> requests{0};
    std::mutex heads_mutex;
    std::vector<std::string> heads; ///< every request head read, in order
    bool closed = false;

    void accept();
};

/// One accepted connection playing its step.
struct fault_connection : std::enable_shared_from_this<fault_connection> {
    fault_connection(std::shared_ptr<fault_server::state> s, tcp::socket sock, fault_step st)
        : state(std::move(s))
        , socket(std::move(sock))
        , step(std::move(st)) {}

    std::shared_ptr<fault_server::state> state;
    tcp::socket socket;
    std::optional<ssl::stream<tcp::socket>> tls;
    fault_step step;
    std::size_t next = 0;
    std::string input;
    std::string held;            ///< plain TCP: bytes of hold() for the next send
    std::size_t bytewise_at = 0; ///< send_bytewise: bytes sent so far

    tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

    void start() {
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        if (!state->tls)
            return run();
        tls.emplace(std::move(socket), *state->tls);
        if (!step.empty() && step.front().what != fault_action::kind::send &&
            step.front().what != fault_action::kind::read_request)
            return run(); // stall, reset or close instead of the handshake
        tls->async_handshake(ssl::stream_base::server, [self = shared_from_this()](const error_code& ec) {
            if (ec)
                return self->close();
            self->run();
        });
    }

    template <typename F>
    void with_stream(F&& f) {
        if (tls)
            f(*tls);
        else
            f(socket);
    }

    void run() {
        if (next >= step.size())
            return close();
        const fault_action& a = step[next++];
        auto self = shared_from_this();
        switch (a.what) {
        case fault_action::kind::read_request:
            return with_stream([&](auto& s) {
                net::async_read_until(s, net::dynamic_buffer(input), "\r\n\r\n",
                                      [self](const error_code& ec, std::size_t n) {
                                          if (ec)
                                              return self->close();
                                          {
                                              std::lock_guard lock(self->state->heads_mutex);
                                              self->state->heads.push_back(self->input.substr(0, n));
                                          }
                                          self->input.erase(0, n);
                                          ++self->state->requests;
                                          self->run();
                                      });
            });
        case fault_action::kind::send:
            if (!held.empty()) { // plain TCP: what hold() kept goes first, in the same write
                held += a.bytes;
                return with_stream([&](auto& s) {
                    net::async_write(s, net::buffer(held), [self](const error_code& ec, std::size_t) {
                        self->held.clear();
                        if (ec)
                            return self->close();
                        self->run();
                    });
                });
            }
            return with_stream([&](auto& s) {
                net::async_write(s, net::buffer(a.bytes), [self](const error_code& ec, std::size_t) {
                    if (ec)
                        return self->close();
                    self->run();
                });
            });
        case fault_action::kind::send_bytewise:
            bytewise_at = 0;
            return send_next_byte(a.bytes);
        case fault_action::kind::hold:
            if (!tls) {
                held += a.bytes;
                return run();
            }
            // Written into asio's engine, not to the socket: its next operation flushes this record
            // together with its own output, in one socket write.
            if (SSL_write(tls->native_handle(), a.bytes.data(), static_cast<int>(a.bytes.size())) !=
                static_cast<int>(a.bytes.size()))
                return close();
            return run();
        case fault_action::kind::close_notify:
            if (!tls)
                return close();
            return tls->async_shutdown([self](const error_code&) { self->run(); });
        case fault_action::kind::reset: {
            error_code ignored;
            lowest().set_option(net::socket_base::linger(true, 0), ignored);
            lowest().close(ignored);
            return;
        }
        case fault_action::kind::close:
            return close();
        case fault_action::kind::stall:
            state->stalled.push_back(self); // held open until close()
            return;
        case fault_action::kind::repeat:
            next = 0;
            return run();
        }
    }

    void send_next_byte(const std::string& bytes) {
        if (bytewise_at >= bytes.size())
            return run();
        with_stream([&](auto& s) {
            net::async_write(s, net::buffer(bytes.data() + bytewise_at, 1),
                             [self = shared_from_this(), &bytes](const error_code& ec, std::size_t) {
                                 if (ec)
                                     return self->close();
                                 ++self->bytewise_at;
                                 self->send_next_byte(bytes);
                             });
        });
    }

    void close() {
        error_code ignored;
        lowest().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().close(ignored);
    }
};

void fault_server::state::accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket sock) {
        if (ec || self->closed)
            return;
        const std::size_t i = self->accepted++;
        auto c = std::make_shared<fault_connection>(
            self, std::move(sock),
            self->script.empty() ? fault_step{} : self->script[std::min(i, self->script.size() - 1)]);
        std::erase_if(self->connections,
                      [](const std::weak_ptr<fault_connection>& w) { return w.expired(); });
        self->connections.push_back(c);
        self->accept();
        c->start();
    });
}

fault_server::fault_server(net::io_context& ioc, std::vector<fault_step> script, fault_server_options opts)
    : state_(std::make_shared<state>(ioc, std::move(script), std::move(opts))) {
    const auto& o = state_->opts;
    if (o.tls) {
        auto& ctx = state_->tls.emplace(ssl::context::tls_server);
        ctx.use_certificate_chain_file(pki::path(o.cert + ".crt"));
        ctx.use_private_key_file(pki::path(o.cert + ".key"), ssl::context::pem);
        if (!o.sessions) {
            SSL_CTX_set_num_tickets(ctx.native_handle(), 0);
            SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_OFF);
        }
        if (o.require_client_certificate) {
            ctx.load_verify_file(pki::path("ca.crt"));
            ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        }
        if (!o.alpn.empty())
            SSL_CTX_set_alpn_select_cb(ctx.native_handle(), select_alpn,
                                       const_cast<std::vector<std::string>*>(&o.alpn));
    }
    if (o.accept) {
        state_->accept();
        return;
    }
    // Backlog 0 holds one pending connection; fill it (non-blocking connects: the kernel drops the SYNs of
    // later ones, so they would block) and never accept: the client's connect stalls.
    ::listen(state_->acceptor.native_handle(), 0);
    const auto here = state_->acceptor.local_endpoint();
    for (int i = 0; i < 3; ++i) {
        const int fd = ::socket(here.address().is_v6() ? AF_INET6 : AF_INET,
                                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ::connect(fd, here.data(), static_cast<socklen_t>(here.size()));
        state_->backlog_fillers.push_back(fd);
    }
}

fault_server::~fault_server() {
    close();
}

std::uint16_t fault_server::port() const noexcept {
    return state_->port;
}

std::string fault_server::url(const std::string& path) const {
    return (state_->opts.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) + path;
}

std::size_t fault_server::accepted() const noexcept {
    return state_->accepted;
}

std::vector<std::string> fault_server::request_heads() const {
    std::lock_guard lock(state_->heads_mutex);
    return state_->heads;
}

std::size_t fault_server::requests() const noexcept {
    return state_->requests;
}

void fault_server::close() {
    if (state_->closed)
        return;
    state_->closed = true;
    error_code ignored;
    state_->acceptor.close(ignored);
    for (int fd : state_->backlog_fillers)
        ::close(fd);
    state_->backlog_fillers.clear();
    for (auto& w : state_->connections)
        if (auto c = w.lock())
            c->close();
    state_->connections.clear();
    state_->stalled.clear();
}

} // namespace edgeloop::test
