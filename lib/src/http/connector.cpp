#include "connector.hpp"

#include "socks5.hpp"

#include <edgeloop/core/log.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/net/address_order.hpp>

#include "socket_options.hpp"
#include <edgeloop/tls/error.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string_view>
#include <utility>

namespace edgeloop::http::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

/// True when the system clock is before the library's build date or before the notBefore of the client
/// certificate: a server certificate that is "not yet valid" then says more about the clock than about
/// the server. `detail` says what the clock says.
bool clock_not_set(SSL* ssl, std::string& detail) {
    std::time_t now = std::time(nullptr);
    bool wrong = false;
#ifdef EDGELOOP_BUILD_TIME
    wrong = now < static_cast<std::time_t>(EDGELOOP_BUILD_TIME);
#endif
    if (X509* own = SSL_get_certificate(ssl); own != nullptr && !wrong)
        wrong = X509_cmp_time(X509_get0_notBefore(own), &now) > 0;
    if (!wrong)
        return false;
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    detail = std::string("system clock not set (it says ") + buf +
             "): the server certificate looks not yet valid; set the clock (NTP) and retry";
    return true;
}

bool peer_is_v6(const std::string& ip) {
    return ip.find(':') != std::string::npos;
}

} // namespace

std::string basic_credentials(const proxy_endpoint& p) {
    const std::string plain = p.user + ":" + p.password;
    std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
    out.resize(static_cast<std::size_t>(n));
    return "Basic " + out;
}

error_code map_tls_failure(SSL* ssl, const error_code& ec, std::string& detail) {
    if (ssl != nullptr) {
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            detail = X509_verify_cert_error_string(verify);
            switch (verify) {
            case X509_V_ERR_CERT_HAS_EXPIRED:
                return tls::error::certificate_expired;
            case X509_V_ERR_CERT_NOT_YET_VALID:
                if (clock_not_set(ssl, detail))
                    return tls::error::clock_not_set;
                return tls::error::certificate_not_yet_valid;
            case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
                return tls::error::self_signed_certificate;
            case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
            case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
            case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            case X509_V_ERR_CERT_UNTRUSTED:
                return tls::error::untrusted_issuer;
            case X509_V_ERR_HOSTNAME_MISMATCH:
            case X509_V_ERR_IP_ADDRESS_MISMATCH:
                // The chain is kept even when its verification failed (the peer certificate is not).
                if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
                    chain != nullptr && sk_X509_num(chain) > 0 &&
                    X509_get_ext_by_NID(sk_X509_value(chain, 0), NID_subject_alt_name, -1) < 0)
                    detail = "the certificate has no subjectAltName, and its Common Name is never used for "
                             "the host name check (RFC 9525)";
                return tls::error::host_name_mismatch;
            default:
                return tls::error::certificate_invalid;
            }
        }
    }
    detail = ec.message();
    if (ec.category() == net::error::get_ssl_category()) {
        switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
            return tls::error::client_certificate_rejected;
        case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        case SSL_R_UNSUPPORTED_PROTOCOL:
        case SSL_R_NO_PROTOCOLS_AVAILABLE:
            return tls::error::protocol_version_rejected;
        case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
            return tls::error::alpn_not_negotiated;
        default:
            break;
        }
        // The client key's token failed to sign (libp11's errors): removed, or the key deleted from it.
        if (const char* lib = ERR_lib_error_string(static_cast<unsigned long>(ec.value()));
            lib != nullptr && std::string_view(lib).find("PKCS#11") != std::string_view::npos) {
            detail = "the PKCS#11 token of the client key cannot sign (" + detail +
                     "): the token was removed or the key deleted from it";
            return tls::error::token_unavailable;
        }
    }
    return tls::error::handshake_failed;
}

const char* to_string(connect_phase p) noexcept {
    switch (p) {
    case connect_phase::idle:
        return "idle";
    case connect_phase::resolve:
        return "resolve";
    case connect_phase::connect:
        return "connect";
    case connect_phase::proxy_tunnel:
        return "proxy tunnel";
    case connect_phase::proxy_tls:
        return "proxy TLS handshake";
    case connect_phase::tls_handshake:
        return "TLS handshake";
    }
    return "?";
}

connector::connector(std::shared_ptr<client_state> state)
    : state_(std::move(state))
    , phase_timer_(state_->ex) {}

void connector::start(std::shared_ptr<connection> c, const connect_target& target, const http::timeouts& t,
                      std::shared_ptr<connect_listener> listener) {
    ++run_;
    conn_ = std::move(c);
    session_conn_.reset();
    target_ = target;
    timeouts_ = t;
    listener_ = std::move(listener);
    result_ = connect_result{};
    handshake_ok_ = false;
    phase_ = connect_phase::resolve;
    arm(timeouts_.resolve, error::resolve_timeout);
    // Through a proxy, the proxy's name is resolved; the target's is the proxy's business (CONNECT).
    const bool proxied = target_.proxy.has_value();
    edgeloop::net::name_overrides::route route{proxied ? std::string_view(target_.proxy->host)
                                                       : std::string_view(target_.url.host),
                                               proxied ? target_.proxy->port : target_.url.port};
    address_source_ = "DNS";
    connect_to_.clear();
    if (const auto& names = state_->names; !names.empty()) {
        if (!proxied) {
            const auto to = names.connect_to(route.host, route.port);
            if (to.host != route.host || to.port != route.port) {
                route = to;
                const bool v6 = route.host.find(':') != std::string_view::npos;
                connect_to_ = (v6 ? "[" : "") + std::string(route.host) + (v6 ? "]:" : ":") +
                              std::to_string(route.port);
            }
        }
        if (const auto* fixed = names.resolve(route.host, route.port)) {
            endpoints_.clear();
            for (const auto& a : *fixed)
                endpoints_.emplace_back(a, route.port);
            address_source_ = "--resolve";
            net::post(state_->ex, [self = shared_from_this(), run = run_] {
                if (run == self->run_)
                    self->on_addresses();
            });
            return;
        }
    }
    // An IP literal needs no lookup.
    error_code not_ip;
    if (const auto literal = net::ip::make_address(std::string(route.host), not_ip); !not_ip) {
        endpoints_.clear();
        endpoints_.emplace_back(literal, route.port);
        address_source_ = "an IP literal";
        net::post(state_->ex, [self = shared_from_this(), run = run_] {
            if (run == self->run_)
                self->on_addresses();
        });
        return;
    }
    // The query holds this connector weakly: a lookup abandoned at its deadline (it ends by c-ares's own
    // timeouts) holds nothing of the client. While the phase runs, the transfer and this connector hold
    // each other.
    state_->resolver().async_resolve(route.host, [weak = weak_from_this(), run = run_, port = route.port](
                                                     const error_code& ec, edgeloop::net::resolve_answer a) {
        if (auto self = weak.lock(); self && run == self->run_)
            self->on_resolve(ec, std::move(a), port);
    });
}

void connector::cancel() {
    if (phase_ == connect_phase::idle && !listener_) {
        release_tls_waits();
        return;
    }
    ++run_;
    listener_.reset();
    phase_ = connect_phase::idle;
    deadline_ = std::chrono::steady_clock::time_point::max();
    stop_pending();
}

void connector::on_resolve(const error_code& ec, edgeloop::net::resolve_answer answer, std::uint16_t port) {
    if (ec) {
        result_.detail = answer.detail.empty() ? ec.message() : answer.detail;
        result_.cause = ec;
        if (target_.proxy) {
            result_.detail = "proxy " + target_.proxy->display() + ": " + result_.detail;
            return fail(error::proxy_resolve_failed);
        }
        return fail(ec == net::error::timed_out ? error::resolve_timeout : error::resolve_failed);
    }
    endpoints_.clear();
    for (const auto& a : answer.addresses)
        endpoints_.emplace_back(a, port);
    address_source_ = answer.from_cache ? "the DNS cache" : "DNS";
    on_addresses();
}

/// The addresses are known (DNS or --resolve): one is connected to directly, more race (Happy Eyeballs).
void connector::on_addresses() {
    result_.resolved = std::chrono::steady_clock::now();
    const auto& copts = state_->opts.connect;
    if (endpoints_.size() > 1 || copts.family != edgeloop::net::ip_family::any)
        edgeloop::net::happy_eyeballs_order(endpoints_, copts.family);
    if (endpoints_.empty()) {
        const std::string name = target_.proxy ? target_.proxy->host : target_.url.host;
        result_.detail =
            (copts.family == edgeloop::net::ip_family::v4 ? "no IPv4 address for " : "no IPv6 address for ") +
            name + " (" + address_source_ + "; -" +
            (copts.family == edgeloop::net::ip_family::v4 ? "4" : "6") + " given)";
        if (target_.proxy) {
            result_.detail = "proxy " + target_.proxy->display() + ": " + result_.detail;
            return fail(error::proxy_resolve_failed);
        }
        return fail(error::resolve_failed);
    }
    phase_ = connect_phase::connect;
    arm(timeouts_.connect, error::connect_timeout);
    // Each handler holds the connection as well as the connector: finish() drops conn_ at once (a deadline,
    // a cancel), and the pending operation still refers to the socket until its handler has run.
    if (endpoints_.size() == 1) {
        if (const auto ec =
                bind_source(conn_->socket, endpoints_.front(), copts.bind_interface, result_.detail)) {
            result_.cause = ec;
            return fail(error::connect_failed);
        }
        conn_->socket.async_connect(
            endpoints_.front(), [self = shared_from_this(), conn = conn_, run = run_](const error_code& e) {
                if (run == self->run_)
                    self->on_connect(e);
            });
        return;
    }
    race_ = std::make_shared<connect_race>(state_->ex, endpoints_, copts.happy_eyeballs_delay,
                                           timeouts_.connect, copts.bind_interface);
    race_->start([self = shared_from_this(), run = run_](const error_code& e, tcp::socket* winner,
                                                         const tcp::endpoint*) {
        if (run != self->run_)
            return;
        if (winner != nullptr)
            self->conn_->socket = std::move(*winner);
        else
            self->result_.detail = self->race_->detail();
        self->on_connect(e);
    });
}

void connector::on_connect(const error_code& ec) {
    const std::size_t attempts = race_ ? race_->started() : 1;
    race_.reset();
    if (ec) {
        if (result_.detail.empty())
            result_.detail = ec.message();
        if (!connect_to_.empty())
            result_.detail = "--connect-to " + connect_to_ + ": " + result_.detail;
        result_.cause = ec;
        if (target_.proxy) {
            result_.detail = "proxy " + target_.proxy->display() + ": " + result_.detail;
            return fail(error::proxy_connect_failed);
        }
        return fail(ec == net::error::connection_refused ? error::connection_refused
                    : ec == net::error::timed_out        ? error::connect_timeout
                                                         : error::connect_failed);
    }
    error_code ignored;
    conn_->socket.set_option(tcp::no_delay(true), ignored);
    apply_keepalive(conn_->socket, state_->opts.pool);
    result_.connected = std::chrono::steady_clock::now();
    if (const auto peer = conn_->socket.remote_endpoint(ignored); !ignored) {
        result_.remote_ip = peer.address().to_string();
        result_.remote_port = peer.port();
    }
    if (core::log::enabled(core::log_level::info)) // -v: which address, and where it came from
        core::log::write(
            core::log_level::info,
            (target_.proxy ? "proxy " + target_.proxy->display() : target_.url.authority()) +
                ": connected to " +
                (peer_is_v6(result_.remote_ip) ? "[" + result_.remote_ip + "]" : result_.remote_ip) + ":" +
                std::to_string(result_.remote_port) + " (address from " + address_source_ +
                (connect_to_.empty() ? std::string() : ", --connect-to " + connect_to_) +
                (attempts > 1 ? ", Happy Eyeballs: " + std::to_string(attempts) + " of " +
                                    std::to_string(endpoints_.size()) + " addresses tried"
                              : std::string()) +
                ")");
    if (target_.proxy && target_.proxy->is_socks())
        return start_socks();
    if (target_.proxy && target_.proxy->is_tls())
        return start_proxy_tls(); // then as below, inside the proxy's TLS
    if (!target_.url.tls)
        return succeed(); // through a proxy too: plain http goes in absolute form, no tunnel
    if (target_.proxy)
        return start_tunnel();
    start_tls();
}

/// HTTP CONNECT (RFC 9110 9.3.6) to the target's authority; the answer head is read up to its end and no
/// further (nothing may follow a 2xx before the TLS handshake).
void connector::start_tunnel() {
    phase_ = connect_phase::proxy_tunnel;
    arm(timeouts_.proxy_tunnel, error::proxy_tunnel_timeout);
    const std::string authority = target_.url.authority();
    tunnel_.clear();
    tunnel_.append("CONNECT ")
        .append(authority)
        .append(" HTTP/1.1\r\nHost: ")
        .append(authority)
        .append("\r\n");
    if (target_.proxy->has_credentials)
        tunnel_.append("Proxy-Authorization: ").append(basic_credentials(*target_.proxy)).append("\r\n");
    if (!target_.user_agent.empty())
        tunnel_.append("User-Agent: ").append(target_.user_agent).append("\r\n");
    tunnel_.append("\r\n");
    // On the socket, or inside the TLS with an https:// proxy. The stream lives in the connection, which
    // the handlers hold.
    const auto exchange = [this](auto& stream) {
        net::async_write(stream, net::buffer(tunnel_),
                         [self = shared_from_this(), conn = conn_, run = run_, &stream](const error_code& ec,
                                                                                        std::size_t) {
                             if (run != self->run_)
                                 return;
                             if (ec)
                                 return self->on_tunnel_answer(ec, 0);
                             self->tunnel_.clear();
                             net::async_read_until(stream, net::dynamic_buffer(self->tunnel_, 16 * 1024),
                                                   "\r\n\r\n",
                                                   [self, conn, run](const error_code& e, std::size_t n) {
                                                       if (run == self->run_)
                                                           self->on_tunnel_answer(e, n);
                                                   });
                         });
    };
    if (conn_->tls)
        exchange(*conn_->tls);
    else
        exchange(conn_->socket);
}

void connector::on_tunnel_answer(const error_code& ec, std::size_t head_bytes) {
    const std::string proxy = "proxy " + target_.proxy->display();
    if (ec) {
        result_.cause = ec;
        result_.detail = proxy + ": " +
                         (ec == net::error::not_found ? std::string("answer head larger than 16 KiB")
                          : ec == net::error::eof || ec == net::ssl::error::stream_truncated
                              ? std::string("closed the connection before answering CONNECT")
                              : ec.message());
        return fail(error::bad_proxy_response);
    }
    // "HTTP/1.x NNN reason"
    const std::string_view head(tunnel_.data(), head_bytes);
    const std::string_view line = head.substr(0, head.find("\r\n"));
    unsigned status = 0;
    if (line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && line[8] == ' ') {
        const auto r = std::from_chars(line.data() + 9, line.data() + 12, status);
        if (r.ec != std::errc{} || r.ptr != line.data() + 12 || (line.size() > 12 && line[12] != ' '))
            status = 0;
    }
    if (status < 100 || status > 599) {
        result_.detail = proxy + ": not an HTTP/1.x answer to CONNECT";
        return fail(error::bad_proxy_response);
    }
    std::string reason(line.size() > 13 ? line.substr(13) : std::string_view());
    std::erase_if(reason, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
    const std::string said = proxy + " answered " + std::to_string(status) +
                             (reason.empty() ? "" : " " + reason) + " to CONNECT " + target_.url.authority();
    if (status == 407) {
        result_.detail = said + (target_.proxy->has_credentials ? " (the credentials given were refused)"
                                                                : " (no proxy credentials given)");
        return fail(error::proxy_auth_required);
    }
    if (status / 100 != 2) {
        result_.detail = said;
        return fail(error::proxy_tunnel_refused);
    }
    if (tunnel_.size() != head_bytes) {
        result_.detail = proxy + ": bytes after its 2xx answer to CONNECT";
        return fail(error::bad_proxy_response);
    }
    tunnel_.clear();
    tunnel_.shrink_to_fit();
    start_tls();
}

/// A SOCKS5 tunnel to the target (socks5.hpp), for http and https alike; TLS with the target follows.
void connector::start_socks() {
    phase_ = connect_phase::proxy_tunnel;
    arm(timeouts_.proxy_tunnel, error::proxy_tunnel_timeout);
    if (target_.proxy->scheme == proxy_scheme::socks5 && !target_.url.host_is_ip)
        return resolve_socks_target(); // socks5_target.cpp; open_socks follows
    open_socks(target_.url);
}

void connector::open_socks(const url_parts& to) {
    socks_ =
        socks5_tunnel::start(conn_->socket, *target_.proxy, to,
                             [self = shared_from_this(), conn = conn_, run = run_](const socks5_outcome& o) {
                                 if (run != self->run_)
                                     return;
                                 self->socks_.reset();
                                 if (o.ec) {
                                     self->result_.detail = o.detail;
                                     self->result_.cause = o.cause;
                                     return self->fail(o.ec);
                                 }
                                 if (!self->target_.url.tls)
                                     return self->succeed();
                                 self->start_tls();
                             });
}

/// TLS with the target, inside the tunnel when there is one: SNI, verification and the client identity
/// are the target's, as without a proxy.
void connector::start_tls() {
    if (!conn_->tls)
        conn_->tls.emplace(std::move(conn_->socket),
                           conn_->context->native().native_handle());             // see rotation.cpp
    else if (!conn_->tls->push_inner(conn_->context->native().native_handle())) { // an https:// proxy's
        result_.detail = "cannot create a TLS session inside the proxy's";
        return fail(tls::error::handshake_failed);
    }
    phase_ = connect_phase::tls_handshake;
    arm(timeouts_.handshake, error::handshake_timeout); // waiting for a turn counts too
    take_handshake_turn();
}

/// Starts the handshake now if pool_options::handshake_spacing allows, or queues for a turn
/// (client_state::start_queued_handshakes grants it: handshake_slot_granted).
void connector::take_handshake_turn() {
    if (!state_->begin_handshake()) {
        awaits_handshake_slot_ = true;
        state_->handshake_queue.push_back(shared_from_this());
        state_->start_queued_handshakes(); // arms the spacing timer
        return;
    }
    holds_handshake_slot_ = true;
    start_handshake();
}

/// Configured only now, after any wait for a turn: a TLS 1.3 session is good for one resumption (OpenSSL
/// marks it not resumable once a handshake has used it), so each handshake takes a session of the cache
/// that is still unused.
void connector::start_handshake() {
    if (waits_for_session())
        return;
    if (!configure_tls())
        return;
    if (shares_sessions() && !session_source_) {
        // Its new session (TLS 1.3: tickets after the handshake) may serve a connection waiting now.
        session_source_ = true;
        session_conn_ = conn_;
        ++state_->session_sources[target_.key];
    }
    handshake_started_ = std::chrono::steady_clock::now();
    conn_->tls->async_handshake([self = shared_from_this(), conn = conn_, run = run_](const error_code& e) {
        if (run == self->run_)
            self->on_handshake(e);
    });
}

/// pool_options::share_first_handshake applies to this connection's origin.
bool connector::shares_sessions() const {
    const auto& pool = state_->opts.pool;
    return target_.url.tls && pool.share_first_handshake && pool.tls_session_cache &&
           pool.tls_session_cache_size != 0 && !state_->sessionless.contains(target_.key);
}

/// share_first_handshake: with no session of its origin to resume while other connections to it are
/// handshaking (and will bring sessions), this one gives up its handshake turn and waits for one
/// (client_state::session_arrived or session_source_done wakes it: session_ready). True: waiting.
bool connector::waits_for_session() {
    if (!shares_sessions() || state_->sessions.has(target_.key))
        return false;
    auto it = state_->session_sources.find(target_.key);
    if (it == state_->session_sources.end() || it->second == 0)
        return false;
    state_->session_waiters[target_.key].push_back(shared_from_this());
    awaits_session_ = true;
    if (holds_handshake_slot_) {
        holds_handshake_slot_ = false;
        state_->handshake_slot_freed();
    }
    return true;
}

void connector::session_ready() {
    awaits_session_ = false;
    if (phase_ != connect_phase::tls_handshake)
        return; // cancelled meanwhile
    take_handshake_turn();
}

void connector::handshake_slot_granted() {
    awaits_handshake_slot_ = false;
    holds_handshake_slot_ = true; // counted by client_state::handshake_slot_freed already
    net::post(state_->ex, [self = shared_from_this(), run = run_] {
        if (run == self->run_ && self->phase_ == connect_phase::tls_handshake)
            self->start_handshake();
    });
}

/// Gives up what this connector holds or waits for in the handshake bookkeeping: being a source of
/// sessions for its origin (when the last source is done, the waiting connections go on), a place in a
/// wait list, a handshake slot.
void connector::release_tls_waits() {
    release_session_source();
    if (awaits_session_) {
        awaits_session_ = false;
        if (auto it = state_->session_waiters.find(target_.key); it != state_->session_waiters.end()) {
            std::erase_if(it->second,
                          [this](const std::shared_ptr<connector>& p) { return p.get() == this; });
            if (it->second.empty())
                state_->session_waiters.erase(it);
        }
    }
    if (awaits_handshake_slot_) {
        awaits_handshake_slot_ = false;
        state_->handshake_queue.remove_if(
            [this](const std::shared_ptr<connector>& p) { return p.get() == this; });
    }
    if (holds_handshake_slot_) {
        holds_handshake_slot_ = false;
        state_->handshake_slot_freed();
    }
}

bool connector::configure_tls() {
    const tls::context& ctx = *conn_->context; // the identity the connection was made with (rotation)
    const tls::options& o = ctx.opts();
    SSL* ssl = conn_->tls->native_handle();
    if (ssl == nullptr) {
        result_.detail = "cannot create a TLS session";
        fail(tls::error::handshake_failed);
        return false;
    }
    SSL_set_ex_data(ssl, connection_ex_index(), conn_.get());
    if (target_.anonymous && ctx.has_client_identity()) {
        // Another origin after a redirect: this connection presents no client identity, whichever way it
        // was installed (options, native(), an engine's key). Cleared on this SSL only, so the shared
        // context keeps everything else configured on it (verification, versions, ciphers).
        SSL_certs_clear(ssl);
        SSL_set_cert_cb(ssl, nullptr, nullptr);
        if (SSL_CTX_get_client_cert_cb(SSL_get_SSL_CTX(ssl)) != nullptr) {
            // A context-wide callback cannot be switched off for one connection.
            result_.detail = "the client certificate callback cannot be withheld from another origin";
            fail(tls::error::handshake_failed);
            return false;
        }
    }
    if (state_->opts.pool.tls_session_cache)
        state_->sessions.apply(target_.key, ssl);
    const url_parts& url = target_.url;
    const std::string name = url.tls_name(); // "localhost." is sent and checked as "localhost"
    // The override names the origin it was configured for, not where a redirect leads.
    const bool override_sni = !o.sni_name.empty() && target_.sni_override;
    const std::string& sni = override_sni ? o.sni_name : name;
    // RFC 6066: SNI carries host names only, never IP literals.
    if (o.sni && (!url.host_is_ip || override_sni) && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
        result_.detail = "cannot set SNI";
        fail(tls::error::handshake_failed);
        return false;
    }
    const std::string peer = url.authority();
    if (o.insecure) {
        core::log::write(core::log_level::warn, peer +
                                                    ": TLS certificate verification is OFF (insecure): the "
                                                    "server is not authenticated");
    } else if (!o.verify_host) {
        // As loud as insecure: with the system store, any public certificate passes for any host.
        core::log::write(core::log_level::warn,
                         peer + ": TLS host name check is OFF (verify_host = false): a certificate "
                                "for any name from a trusted CA is accepted");
    } else {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        // RFC 9525 6.3: the name is matched against the subjectAltName only, never the Common Name.
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                                   X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        const int ok = url.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                      : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
        if (ok != 1) {
            result_.detail = "cannot set host name check";
            fail(tls::error::handshake_failed);
            return false;
        }
    }
    return true;
}

void connector::on_handshake(const error_code& ec) {
    if (holds_handshake_slot_) {
        holds_handshake_slot_ = false;
        state_->handshake_slot_freed();
    }
    SSL* ssl = conn_->tls->native_handle();
    if (ec == net::error::connection_reset) {
        result_.detail = "during the TLS handshake";
        result_.cause = ec;
        if (target_.proxy) // the tunnel's far end may be the proxy: name it
            result_.detail += " (through proxy " + target_.proxy->display() + ")";
        return fail(error::connection_reset);
    }
    if (ec) {
        result_.cause = ec;
        const error_code mapped = map_tls_failure(ssl, ec, result_.detail);
        if (target_.proxy)
            result_.detail += " (through proxy " + target_.proxy->display() + ")";
        return fail(mapped);
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    conn_->alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    result_.tls_resumed = SSL_session_reused(ssl) == 1;
    result_.handshaken = std::chrono::steady_clock::now();
    handshake_ok_ = true;
    if (session_source_)
        await_tickets(ssl);
    succeed();
}

/// A source of sessions is done when what it can bring has come: with TLS 1.2 at the end of the handshake;
/// with TLS 1.3 the tickets follow the handshake (read with the response), so at the response head or,
/// from a server that sends none (or a slow response), after a grace of twice the handshake's duration
/// (a round trip or two; 10 ms to 1 s): connections waiting for a session never wait for a response.
void connector::await_tickets(SSL* ssl) {
    if (SSL_version(ssl) < TLS1_3_VERSION)
        return release_session_source();
    const auto took = std::chrono::steady_clock::now() - handshake_started_;
    const auto grace = std::clamp<std::chrono::steady_clock::duration>(
        2 * took, std::chrono::milliseconds(10), std::chrono::seconds(1));
    if (!ticket_timer_)
        ticket_timer_ = std::make_unique<net::steady_timer>(state_->ex);
    ticket_timer_->expires_after(grace);
    ticket_timer_->async_wait([weak = weak_from_this()](const error_code& ec) {
        if (auto self = weak.lock(); self && !ec)
            self->release_session_source();
    });
}

void connector::release_session_source() {
    if (!session_source_)
        return;
    session_source_ = false;
    if (ticket_timer_)
        ticket_timer_->cancel();
    const auto c = session_conn_.lock();
    session_conn_.reset();
    if (handshake_ok_ && !result_.tls_resumed && c && c->sessions_given == 0) {
        // A full handshake and no session to resume after it: do not wait for this origin again.
        // (A resumed one may legitimately bring none: a TLS 1.2 session stays good for reuse.)
        if (state_->sessionless.size() >= 256)
            state_->sessionless.clear();
        state_->sessionless.insert(target_.key);
    }
    state_->session_source_done(target_.key);
}

void connector::succeed() {
    finish({});
}

/// A phase failed: gives up its waits and closes the connection, then tells the listener.
void connector::fail(const error_code& ec) {
    stop_pending();
    finish(ec);
}

/// Stops what a phase left running (the address race, the SOCKS tunnel, waits for a TLS turn) and closes the
/// connection. Closing makes pending operations complete at once; the connection object outlives them (their
/// handlers hold this connector, which holds it until the next start).
void connector::stop_pending() {
    if (race_) {
        race_->cancel();
        race_.reset();
    }
    if (socks_)
        std::exchange(socks_, nullptr)->cancel();
    release_tls_waits();
    if (conn_)
        conn_->close();
}

void connector::finish(const error_code& ec) {
    ++run_; // late handlers (the timer) of this run do nothing
    phase_ = connect_phase::idle;
    deadline_ = std::chrono::steady_clock::time_point::max();
    conn_.reset();
    if (auto listener = std::move(listener_))
        listener->on_connected(ec);
}

/// Sets the phase deadline; a zero duration leaves the phase unbounded. The timer is touched only when the
/// new deadline is earlier than the one it waits for.
void connector::arm(std::chrono::milliseconds d, const error_code& on_expiry) {
    if (d.count() <= 0) {
        deadline_ = std::chrono::steady_clock::time_point::max();
        return;
    }
    deadline_ = std::chrono::steady_clock::now() + d;
    deadline_error_ = on_expiry;
    if (deadline_ < timer_at_)
        wait_deadline();
}

void connector::wait_deadline() {
    timer_at_ = deadline_;
    const auto generation = ++timer_generation_;
    phase_timer_.expires_at(deadline_); // cancels a wait for a later time
    phase_timer_.async_wait([weak = weak_from_this(), generation](const error_code& ec) {
        auto self = weak.lock();
        if (!self || ec || generation != self->timer_generation_)
            return;
        self->timer_at_ = std::chrono::steady_clock::time_point::max();
        if (self->deadline_ == std::chrono::steady_clock::time_point::max() ||
            self->phase_ == connect_phase::idle)
            return; // no phase is bounded now
        if (std::chrono::steady_clock::now() < self->deadline_)
            return self->wait_deadline(); // the phase changed since: wait for its own deadline
        self->result_.detail = std::string("in the ") + to_string(self->phase_) + " phase";
        if (self->race_)
            self->result_.detail += " (" + self->race_->describe() + ")";
        if (!self->connect_to_.empty() && self->phase_ == connect_phase::connect)
            self->result_.detail += " (--connect-to " + self->connect_to_ + ")";
        if (self->target_.proxy)
            self->result_.detail += " (proxy " + self->target_.proxy->display() + ")";
        self->fail(self->deadline_error_);
    });
}

} // namespace edgeloop::http::detail
