#include <edgeloop/core/errc.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/tls/error.hpp>

#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

namespace edgeloop {

namespace {

bool is_server_certificate(tls::error e) {
    switch (e) {
    case tls::error::certificate_expired:
    case tls::error::certificate_not_yet_valid:
    case tls::error::clock_not_set:
    case tls::error::untrusted_issuer:
    case tls::error::self_signed_certificate:
    case tls::error::host_name_mismatch:
    case tls::error::certificate_invalid:
        return true;
    default:
        return false;
    }
}

bool is_handshake(tls::error e) {
    return (e >= tls::error::handshake_failed && e <= tls::error::alpn_not_negotiated) ||
           e == tls::error::clock_not_set;
}

bool is_timeout(http::error e) {
    switch (e) {
    case http::error::resolve_timeout:
    case http::error::connect_timeout:
    case http::error::handshake_timeout:
    case http::error::write_timeout:
    case http::error::response_head_timeout:
    case http::error::idle_timeout:
    case http::error::total_timeout:
        return true;
    default:
        return false;
    }
}

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.condition"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::timeout:
            return "timed out";
        case errc::server_certificate:
            return "server certificate refused";
        case errc::client_certificate:
            return "client certificate refused or required";
        case errc::tls_handshake:
            return "TLS handshake failed";
        case errc::name_resolution:
            return "host name not resolved";
        }
        return "unknown edgeloop.condition";
    }

    // The groups are decided here, for codes of any category: one place to read them, and a code can be
    // in more than one (certificate_expired is a server_certificate and a tls_handshake failure).
    bool equivalent(const boost::system::error_code& code, int condition) const noexcept override {
        const auto c = static_cast<errc>(condition);
        if (code.category() == http::http_category()) {
            const auto e = static_cast<http::error>(code.value());
            return (c == errc::timeout && is_timeout(e)) ||
                   (c == errc::name_resolution && e == http::error::resolve_failed);
        }
        if (code.category() == tls::tls_category()) {
            const auto e = static_cast<tls::error>(code.value());
            return (c == errc::server_certificate && is_server_certificate(e)) ||
                   (c == errc::client_certificate && e == tls::error::client_certificate_rejected) ||
                   (c == errc::tls_handshake && is_handshake(e));
        }
        if (c == errc::timeout)
            return code == boost::system::errc::timed_out;
        return false;
    }
};

} // namespace

const boost::system::error_category& condition_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace edgeloop
