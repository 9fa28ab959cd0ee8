#pragma once

#include <edgeloop/core/errc.hpp>

#include <boost/system/error_code.hpp>

#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace edgeloop::tls {

/// Errors of the tls module (category "edgeloop.tls"): configuration faults found when a context is
/// built, and the reasons a TLS handshake failed.
enum class error {
    // configuration, reported before any connection is tried
    file_not_found = 1,
    file_unreadable,
    not_pem,
    no_certificate_in_file,
    passphrase_required,
    wrong_passphrase,
    key_mismatch,
    key_without_certificate,
    bad_alpn,
    // handshake
    handshake_failed,
    certificate_expired,
    certificate_not_yet_valid,
    untrusted_issuer,
    self_signed_certificate,
    host_name_mismatch,
    certificate_invalid,
    client_certificate_rejected,
    protocol_version_rejected,
    alpn_not_negotiated,
    // configuration of a client identity (tls::identity), reported before any connection is tried
    token_unavailable = 100,    ///< the PKCS#11 engine or module cannot be loaded, or the token cannot sign
    token_not_found,            ///< no token matches the URI
    object_not_found,           ///< the token has no such key or certificate
    wrong_pin,                  ///< the token refused the PIN (or none was given for a key that needs one)
    pin_unreadable,             ///< the PIN file or environment variable named cannot be read
    identity_conflict,          ///< both options::client_identity and cert_file/key_file are set
    client_certificate_expired, ///< the client certificate's notAfter has passed (by the system clock)
    // handshake, continued
    clock_not_set = 200, ///< "not yet valid" while the system clock is before the library's build date or
                         ///< the client certificate's notBefore: the clock is wrong, not the server
};

const boost::system::error_category& tls_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), tls_category()};
}

/// Thrown by tls::context when options cannot be turned into a context. what() names the file and the
/// reason, e.g. "client key /etc/gw/key.pem: wrong passphrase".
class config_error : public std::runtime_error {
public:
    config_error(boost::system::error_code ec, const std::string& message)
        : std::runtime_error(message)
        , code_(ec) {}
    boost::system::error_code code() const noexcept { return code_; }

private:
    boost::system::error_code code_;
};

} // namespace edgeloop::tls

template <>
struct boost::system::is_error_code_enum<edgeloop::tls::error> : std::true_type {};
