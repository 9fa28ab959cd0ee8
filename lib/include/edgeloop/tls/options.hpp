#pragma once

#include <edgeloop/tls/identity.hpp>

#include <string>
#include <vector>

namespace edgeloop::tls {

/// Everything needed to build a client TLS context. Secure by default: the peer is verified against the
/// system trust store, its host name (or IP address) is checked, SNI is sent and TLS 1.2 is the minimum.
struct options {
    /// PEM file of trust anchors. When neither ca_file nor ca_dir is set, the system store is used.
    std::string ca_file;
    /// Directory of hashed PEM trust anchors (c_rehash layout).
    std::string ca_dir;
    /// Also trust the system store when ca_file or ca_dir is given.
    bool use_system_store = false;

    /// Client certificate chain (PEM, leaf first) and its private key (PEM, possibly encrypted) for
    /// mutual TLS. Both or neither.
    std::string cert_file;
    std::string key_file;
    /// Passphrase of an encrypted key. Never logged.
    std::string key_passphrase;
    /// The client identity named any other way: PEM in memory, a PKCS#11 token, files (see
    /// tls::identity). Excludes cert_file/key_file (config_error identity_conflict when both are set);
    /// cert_file/key_file/key_passphrase are the same as identity::files(...).
    identity client_identity;
    /// A client certificate that expires within this many days is warned about when the context is
    /// built (one that has expired is refused: config_error client_certificate_expired). 0: no warning.
    unsigned expiry_warning_days = 30;

    /// ALPN protocols offered, in order of preference (e.g. {"x-amzn-http-ca"}). Empty: no ALPN.
    std::vector<std::string> alpn;

    /// Send SNI (the URL's host name without a trailing dot, or sni_name when set). IP-address hosts
    /// never send SNI (RFC 6066). sni_name applies to the request's own origin only, not to another
    /// origin a redirect leads to.
    bool sni = true;
    std::string sni_name;

    /// Check the certificate's name against the host (DNS name or IP address) of the URL, in its
    /// subjectAltName only (RFC 9525: a certificate without one never matches; the Common Name is not
    /// used). Off: every connection logs a warning, as with insecure (with the system store, any public
    /// certificate would pass for any host).
    bool verify_host = true;

    /// Turns off all verification of the server. Loud: every connection made with it logs a warning.
    bool insecure = false;
};

} // namespace edgeloop::tls
