#include <edgeloop/core/log.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/url.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <optional>
#include <unordered_set>

namespace edgeloop::http {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace detail {

class fetch_op;

struct client_state {
    net::any_io_executor ex;
    std::optional<tls::context> tls;
    client_options opts;
    std::unordered_set<fetch_op*> active;
};

namespace {

/// Maps the reason of a TLS failure: first the certificate verification result, then the alert or
/// library reason carried by the error code.
error_code map_tls_failure(SSL* ssl, const error_code& ec, std::string& detail) {
    if (ssl != nullptr) {
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            detail = X509_verify_cert_error_string(verify);
            switch (verify) {
            case X509_V_ERR_CERT_HAS_EXPIRED:
                return tls::error::certificate_expired;
            case X509_V_ERR_CERT_NOT_YET_VALID:
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
    }
    return tls::error::handshake_failed;
}

bool is_parse_error(const error_code& ec) {
    if (ec.category() != bhttp::make_error_code(bhttp::error::bad_version).category())
        return false;
    switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::bad_line_ending:
    case bhttp::error::bad_method:
    case bhttp::error::bad_target:
    case bhttp::error::bad_version:
    case bhttp::error::bad_status:
    case bhttp::error::bad_reason:
    case bhttp::error::bad_field:
    case bhttp::error::bad_value:
    case bhttp::error::bad_content_length:
    case bhttp::error::bad_transfer_encoding:
    case bhttp::error::bad_chunk:
    case bhttp::error::bad_chunk_extension:
    case bhttp::error::bad_obs_fold:
    case bhttp::error::multiple_content_length:
        return true;
    default:
        return false;
    }
}

} // namespace

/// One request over a fresh connection. Lives in shared_ptrs held by its pending handlers; completes its
/// handler exactly once (complete()), after which late callbacks only release resources.
class fetch_op : public std::enable_shared_from_this<fetch_op> {
public:
    fetch_op(std::shared_ptr<client_state> state, request req, handlers h, fetch_handler handler)
        : state_(std::move(state))
        , req_(std::move(req))
        , h_(std::move(h))
        , handler_(std::move(handler))
        , resolver_(state_->ex)
        , socket_(state_->ex)
        , phase_timer_(state_->ex)
        , total_timer_(state_->ex)
        , started_(std::chrono::steady_clock::now()) {
        info_.url = req_.url;
    }

    ~fetch_op() { state_->active.erase(this); }

    /// May be called from any thread: everything else happens on the client's executor.
    void start() {
        // Never complete inside the initiating call.
        net::post(state_->ex, [self = shared_from_this()] {
            self->state_->active.insert(self.get());
            auto slot = net::get_associated_cancellation_slot(self->handler_);
            if (slot.is_connected())
                slot.assign([weak = self->weak_from_this()](net::cancellation_type) {
                    if (auto op = weak.lock())
                        op->cancel();
                });
            self->run();
        });
    }

    void cancel() { abort(net::error::operation_aborted); }

private:
    const client_options& opts() const { return state_->opts; }

    void run() {
        if (completed_)
            return;
        auto parsed = parse_url(req_.url);
        if (!parsed)
            return abort(parsed.error());
        url_ = std::move(*parsed);
        info_.peer = url_.authority();
        if (url_.tls && !state_->tls) {
            info_.detail = "client has no TLS context";
            return abort(tls::error::handshake_failed);
        }
        if (opts().timeouts.total.count() > 0) {
            total_timer_.expires_after(opts().timeouts.total);
            total_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
                if (!ec)
                    self->abort(error::total_timeout);
            });
        }
        arm(opts().timeouts.resolve, error::resolve_timeout);
        resolver_.async_resolve(
            url_.host, std::to_string(url_.port),
            [self = shared_from_this()](const error_code& ec, tcp::resolver::results_type r) {
                self->on_resolve(ec, std::move(r));
            });
    }

    void on_resolve(const error_code& ec, tcp::resolver::results_type results) {
        if (completed_)
            return;
        if (ec) {
            info_.detail = ec.message();
            return abort(error::resolve_failed);
        }
        arm(opts().timeouts.connect, error::connect_timeout);
        net::async_connect(
            socket_, results,
            [self = shared_from_this()](const error_code& e, const tcp::endpoint&) { self->on_connect(e); });
    }

    void on_connect(const error_code& ec) {
        if (completed_)
            return;
        if (ec) {
            info_.detail = ec.message();
            return abort(ec == net::error::connection_refused ? error::connection_refused
                                                              : error::connect_failed);
        }
        error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        if (!url_.tls)
            return write_request();

        tls_.emplace(std::move(socket_), state_->tls->native());
        if (!configure_tls())
            return;
        arm(opts().timeouts.handshake, error::handshake_timeout);
        tls_->async_handshake(ssl::stream_base::client,
                              [self = shared_from_this()](const error_code& e) { self->on_handshake(e); });
    }

    bool configure_tls() {
        const tls::options& o = state_->tls->opts();
        SSL* ssl = tls_->native_handle();
        const std::string& sni = o.sni_name.empty() ? url_.host : o.sni_name;
        // RFC 6066: SNI carries host names only, never IP literals.
        if (o.sni && (!url_.host_is_ip || !o.sni_name.empty()) &&
            SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
            info_.detail = "cannot set SNI";
            abort(tls::error::handshake_failed);
            return false;
        }
        if (o.insecure) {
            core::log::write(core::log_level::warn,
                             info_.peer +
                                 ": TLS certificate verification is OFF (insecure): the server is not "
                                 "authenticated");
        } else if (o.verify_host) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            const int ok = url_.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str())
                                           : X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0);
            if (ok != 1) {
                info_.detail = "cannot set host name check";
                abort(tls::error::handshake_failed);
                return false;
            }
        }
        return true;
    }

    void on_handshake(const error_code& ec) {
        if (completed_)
            return;
        if (ec)
            return abort(map_tls_failure(tls_->native_handle(), ec, info_.detail));
        const unsigned char* alpn = nullptr;
        unsigned alpn_len = 0;
        SSL_get0_alpn_selected(tls_->native_handle(), &alpn, &alpn_len);
        info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
        write_request();
    }

    void write_request() {
        wire_.version(11);
        wire_.target(url_.target);
        const auto verb = bhttp::string_to_verb(req_.method);
        if (verb == bhttp::verb::unknown)
            wire_.method_string(req_.method);
        else
            wire_.method(verb);
        wire_.set(bhttp::field::host, url_.host_header());
        bool has_user_agent = false;
        for (const auto& [name, value] : req_.headers) {
            has_user_agent = has_user_agent || beast::iequals(name, "user-agent");
            wire_.insert(name, value);
        }
        if (!has_user_agent && !opts().user_agent.empty())
            wire_.set(bhttp::field::user_agent, opts().user_agent);
        wire_.body() = req_.body;
        if (!req_.body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put)
            wire_.prepare_payload();
        if (core::log::enabled(core::log_level::debug)) {
            std::string line = info_.peer + ": > " + req_.method + " " + url_.target;
            for (const auto& [name, value] : req_.headers)
                line += "\n  " + name + ": " + core::redact_header(name, value);
            core::log::write(core::log_level::debug, line);
        }

        arm(opts().timeouts.write, error::write_timeout);
        with_stream([this](auto& s) {
            bhttp::async_write(s, wire_, [self = shared_from_this()](const error_code& ec, std::size_t) {
                self->on_write(ec);
            });
        });
    }

    void on_write(const error_code& ec) {
        if (completed_)
            return;
        if (ec)
            return fail_io(ec, error::write_failed);
        parser_.emplace();
        parser_->header_limit(opts().limits.max_header_bytes);
        if (opts().limits.max_body_bytes == std::numeric_limits<std::uint64_t>::max())
            parser_->body_limit(boost::none);
        else
            parser_->body_limit(opts().limits.max_body_bytes);
        if (wire_.method() == bhttp::verb::head)
            parser_->skip(true);
        arm(opts().timeouts.response_head, error::response_head_timeout);
        with_stream([this](auto& s) {
            bhttp::async_read_header(
                s, buffer_, *parser_,
                [self = shared_from_this()](const error_code& e, std::size_t) { self->on_header(e); });
        });
    }

    void on_header(const error_code& ec) {
        if (completed_)
            return;
        if (ec)
            return fail_io(ec, error::read_failed);
        const auto& msg = parser_->get();
        info_.status = msg.result_int();
        if (h_.on_response) {
            response_head head;
            head.status = msg.result_int();
            head.version = msg.version();
            head.reason = std::string(msg.reason());
            for (const auto& field : msg)
                head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            h_.on_response(head);
            if (completed_)
                return;
        }
        if (parser_->is_done())
            return finish();
        chunk_ = std::make_unique<unsigned char[]>(opts().limits.body_chunk_bytes);
        read_body();
    }

    void read_body() {
        arm(opts().timeouts.idle, error::idle_timeout);
        auto& body = parser_->get().body();
        body.data = chunk_.get();
        body.size = opts().limits.body_chunk_bytes;
        with_stream([this](auto& s) {
            bhttp::async_read_some(
                s, buffer_, *parser_,
                [self = shared_from_this()](const error_code& e, std::size_t) { self->on_body(e); });
        });
    }

    void on_body(error_code ec) {
        if (completed_)
            return;
        if (ec == bhttp::error::need_buffer)
            ec = {};
        const std::size_t got = opts().limits.body_chunk_bytes - parser_->get().body().size;
        if (got > 0) {
            info_.body_bytes += got;
            if (h_.on_body) {
                h_.on_body(std::span<const std::byte>(reinterpret_cast<const std::byte*>(chunk_.get()), got));
                if (completed_)
                    return;
            }
        }
        if (ec)
            return fail_io(ec, error::read_failed);
        if (parser_->is_done())
            return finish();
        read_body();
    }

    /// Classifies a read or write failure.
    void fail_io(const error_code& ec, error fallback) {
        const bool got_some = parser_ && parser_->got_some();
        info_.detail = ec.message();
        if (ec == bhttp::error::header_limit)
            return abort(error::header_too_large);
        if (ec == bhttp::error::body_limit)
            return abort(error::body_too_large);
        if (is_parse_error(ec))
            return abort(error::malformed_response);
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == ssl::error::stream_truncated)
            return abort(got_some ? error::partial_response : error::no_response);
        if (ec == bhttp::error::partial_message)
            return abort(error::partial_response);
        if (ec == net::error::connection_reset || ec == net::error::broken_pipe)
            return abort(error::connection_reset);
        if (ec.category() == net::error::get_ssl_category()) {
            // A TLS 1.3 server reports a missing or refused client certificate after the client's side
            // of the handshake has finished: it arrives here, on the first read.
            const error_code mapped = map_tls_failure(nullptr, ec, info_.detail);
            if (mapped != tls::error::handshake_failed)
                return abort(mapped);
        }
        abort(fallback);
    }

    void finish() {
        complete({});
        close_gracefully();
    }

    /// Ends the transfer with a failure (or cancellation) and drops the connection at once.
    void abort(const error_code& ec) {
        complete(ec);
        close_now();
    }

    void complete(const error_code& ec) {
        if (completed_)
            return;
        completed_ = true;
        state_->active.erase(this);
        ++generation_;
        phase_timer_.cancel();
        total_timer_.cancel();
        info_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started_);
        if (ec && core::log::enabled(core::log_level::debug))
            core::log::write(core::log_level::debug, req_.url + ": " + describe(ec, info_));
        auto slot = net::get_associated_cancellation_slot(handler_);
        if (slot.is_connected())
            slot.clear();
        auto ex = net::get_associated_executor(handler_, state_->ex);
        net::dispatch(ex, [h = std::move(handler_), ec, info = std::move(info_)]() mutable {
            std::move(h)(ec, std::move(info));
        });
    }

    /// Arms the phase deadline; a zero duration leaves the phase unbounded.
    void arm(std::chrono::milliseconds d, error on_expiry) {
        const auto generation = ++generation_;
        phase_timer_.cancel();
        if (d.count() <= 0)
            return;
        phase_timer_.expires_after(d);
        phase_timer_.async_wait([self = shared_from_this(), generation, on_expiry](const error_code& ec) {
            if (!ec && generation == self->generation_)
                self->abort(on_expiry);
        });
    }

    template <typename F>
    void with_stream(F&& f) {
        if (tls_)
            f(*tls_);
        else
            f(socket_);
    }

    tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }

    void close_now() {
        error_code ignored;
        resolver_.cancel();
        lowest().close(ignored);
    }

    /// Sends close_notify and waits (briefly) for the server's, as TLS asks; plain TCP just closes.
    void close_gracefully() {
        if (!tls_)
            return close_now();
        const auto generation = ++generation_;
        phase_timer_.expires_after(std::chrono::seconds(1));
        phase_timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
            if (!ec && generation == self->generation_)
                self->close_now();
        });
        tls_->async_shutdown([self = shared_from_this()](const error_code&) {
            // stream_truncated here only means the server closed without its close_notify; the response
            // was already complete (a truncated message surfaces as partial_response before this).
            ++self->generation_;
            self->phase_timer_.cancel();
            self->close_now();
        });
    }

    std::shared_ptr<client_state> state_;
    request req_;
    handlers h_;
    fetch_handler handler_;
    url_parts url_;
    transfer_info info_;
    tcp::resolver resolver_;
    tcp::socket socket_;
    std::optional<ssl::stream<tcp::socket>> tls_;
    net::steady_timer phase_timer_;
    net::steady_timer total_timer_;
    std::uint64_t generation_ = 0;
    bhttp::request<bhttp::string_body> wire_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
    std::unique_ptr<unsigned char[]> chunk_;
    std::chrono::steady_clock::time_point started_;
    bool completed_ = false;
};

void start_fetch(const std::shared_ptr<client_state>& state, request req, handlers h, fetch_handler handler) {
    std::make_shared<fetch_op>(state, std::move(req), std::move(h), std::move(handler))->start();
}

} // namespace detail

client::client(net::any_io_executor ex, client_options opts)
    : state_(std::make_shared<detail::client_state>()) {
    state_->ex = std::move(ex);
    state_->opts = std::move(opts);
}

client::client(net::any_io_executor ex, tls::context tls, client_options opts)
    : client(std::move(ex), std::move(opts)) {
    state_->tls.emplace(std::move(tls));
}

client::~client() {
    cancel_all();
}

net::any_io_executor client::get_executor() const noexcept {
    return state_->ex;
}

const client_options& client::options() const noexcept {
    return state_->opts;
}

void client::cancel_all() {
    // cancel() completes the operation and removes it from the set; keep each alive while it does.
    std::vector<std::shared_ptr<detail::fetch_op>> ops;
    for (auto* op : state_->active)
        if (auto p = op->weak_from_this().lock())
            ops.push_back(std::move(p));
    for (auto& op : ops)
        op->cancel();
}

std::size_t client::active() const noexcept {
    return state_->active.size();
}

} // namespace edgeloop::http
