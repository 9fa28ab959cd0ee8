// The connector's phase for an https:// proxy (connect_phase::proxy_tls): TLS with the proxy itself, with
// the proxy's own trust (proxy_options::ca_file, ca_dir, insecure), its name for SNI and the host check,
// and never the client identity. What follows (CONNECT, then the target's TLS inside this one, or plain
// http in absolute form) runs on the TLS stream made here: see connector.cpp and tls_stream::push_inner.

#include "connector.hpp"

#include <edgeloop/core/log.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/tls/context.hpp>
#include <edgeloop/tls/error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <exception>
#include <string>

namespace edgeloop::http::detail {

namespace {

/// The client's context for https:// proxies, made once (files are read here, not per connection); nullptr
/// with `detail` when the trust files cannot be used.
const tls::context* proxy_tls_context(client_state& state, std::string& detail) {
    if (!state.proxy_tls) {
        try {
            state.proxy_tls.emplace(tls::options{.ca_file = state.opts.proxy.ca_file,
                                                 .ca_dir = state.opts.proxy.ca_dir,
                                                 .insecure = state.opts.proxy.insecure});
        } catch (const std::exception& e) {
            detail = std::string("proxy trust settings (--proxy-cacert): ") + e.what();
            return nullptr;
        }
    }
    return &*state.proxy_tls;
}

} // namespace

void connector::start_proxy_tls() {
    phase_ = connect_phase::proxy_tls;
    arm(timeouts_.proxy_handshake, error::proxy_handshake_timeout);
    const std::string proxy = "proxy " + target_.proxy->display();
    const tls::context* ctx = proxy_tls_context(*state_, result_.detail);
    if (ctx == nullptr) {
        result_.detail = proxy + ": " + result_.detail;
        return fail(error::proxy_tls_failed);
    }
    conn_->tls.emplace(std::move(conn_->socket), ctx->native().native_handle());
    if (!configure_proxy_tls())
        return;
    conn_->tls->async_handshake([self = shared_from_this(), conn = conn_, run = run_](const error_code& e) {
        if (run == self->run_)
            self->on_proxy_handshake(e);
    });
}

/// SNI and the host (or IP address) check with the proxy's name, as configure_tls does for the target.
bool connector::configure_proxy_tls() {
    const std::string proxy = "proxy " + target_.proxy->display();
    SSL* ssl = conn_->tls->native_handle();
    if (ssl == nullptr) {
        result_.detail = proxy + ": cannot create a TLS session";
        fail(error::proxy_tls_failed);
        return false;
    }
    const std::string& host = target_.proxy->host;
    error_code not_ip;
    (void)boost::asio::ip::make_address(host, not_ip);
    const bool is_ip = !not_ip;
    std::string name = host;
    if (!is_ip && name.size() > 1 && name.back() == '.')
        name.pop_back(); // "proxy." is sent and checked as "proxy"
    if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) { // RFC 6066: never an IP literal
        result_.detail = proxy + ": cannot set SNI";
        fail(error::proxy_tls_failed);
        return false;
    }
    if (state_->opts.proxy.insecure) {
        core::log::write(core::log_level::warn, proxy + ": TLS certificate verification of the PROXY is OFF "
                                                        "(--proxy-insecure): the proxy is not authenticated");
        return true;
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                               X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                         : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) {
        result_.detail = proxy + ": cannot set host name check";
        fail(error::proxy_tls_failed);
        return false;
    }
    return true;
}

void connector::on_proxy_handshake(const error_code& ec) {
    const std::string proxy = "proxy " + target_.proxy->display();
    if (ec) {
        std::string why;
        const error_code mapped = map_tls_failure(conn_->tls->native_handle(), ec, why);
        result_.cause = mapped;
        result_.detail =
            proxy + ": TLS handshake with the proxy failed: " + why + " (" + mapped.message() + ")";
        return fail(error::proxy_tls_failed);
    }
    if (core::log::enabled(core::log_level::info))
        core::log::write(core::log_level::info, proxy + ": TLS with the proxy (" +
                                                    SSL_get_version(conn_->tls->native_handle()) + ")");
    if (!target_.url.tls)
        return succeed(); // plain http: absolute form on the proxy's TLS, no tunnel
    start_tunnel();
}

} // namespace edgeloop::http::detail
