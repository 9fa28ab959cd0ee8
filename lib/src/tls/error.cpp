#include <edgeloop/tls/error.hpp>

#include <edgeloop/core/errc.hpp>

namespace edgeloop::tls {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.tls"; }

    // The most specific edgeloop::errc the code belongs to (the groups are decided in core/errc.cpp).
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        const boost::system::error_code ec(ev, *this);
        for (const errc c : {errc::server_certificate, errc::client_certificate, errc::tls_handshake})
            if (condition_category().equivalent(ec, static_cast<int>(c)))
                return c;
        return {ev, *this};
    }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::file_not_found:
            return "file not found";
        case error::file_unreadable:
            return "file not readable";
        case error::not_pem:
            return "not a PEM file";
        case error::no_certificate_in_file:
            return "no certificate in file";
        case error::passphrase_required:
            return "private key is encrypted and no passphrase was given";
        case error::wrong_passphrase:
            return "wrong passphrase for private key";
        case error::key_mismatch:
            return "private key does not match the certificate";
        case error::key_without_certificate:
            return "a client key needs a client certificate and vice versa";
        case error::bad_alpn:
            return "invalid ALPN protocol name";
        case error::handshake_failed:
            return "TLS handshake failed";
        case error::certificate_expired:
            return "server certificate has expired";
        case error::certificate_not_yet_valid:
            return "server certificate is not yet valid";
        case error::untrusted_issuer:
            return "server certificate issuer is not trusted";
        case error::self_signed_certificate:
            return "server certificate is self-signed";
        case error::host_name_mismatch:
            return "server certificate does not match the host name";
        case error::certificate_invalid:
            return "server certificate is invalid";
        case error::client_certificate_rejected:
            return "server rejected or required a client certificate";
        case error::protocol_version_rejected:
            return "no TLS protocol version in common (TLS 1.2 minimum)";
        case error::alpn_not_negotiated:
            return "server did not accept the offered ALPN protocols";
        case error::token_unavailable:
            return "PKCS#11 token, engine or module not available";
        case error::token_not_found:
            return "no PKCS#11 token matches";
        case error::object_not_found:
            return "no such object in the PKCS#11 token";
        case error::wrong_pin:
            return "PKCS#11 token refused the PIN";
        case error::pin_unreadable:
            return "PIN cannot be read";
        case error::identity_conflict:
            return "client identity given twice (client_identity and cert_file/key_file)";
        case error::client_certificate_expired:
            return "client certificate has expired";
        case error::clock_not_set:
            return "system clock not set";
        }
        return "unknown edgeloop.tls error";
    }
};

} // namespace

const boost::system::error_category& tls_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace edgeloop::tls
