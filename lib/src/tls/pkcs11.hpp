#pragma once

// Keys and certificates in PKCS#11 tokens, through OpenSSL's pkcs11 engine (libp11,
// libengine-pkcs11-openssl): Debian 12 has no PKCS#11 provider for OpenSSL 3 (README.md, "Device
// identity", says why the engine).

#include <edgeloop/tls/identity.hpp>

#include <openssl/types.h>

#include <memory>
#include <string>

namespace edgeloop::tls::detail {

struct pkcs11_loaded {
    std::shared_ptr<EVP_PKEY> key;
    std::shared_ptr<X509> cert; ///< null when the certificate is not in the token (a file)
};

/// The PIN named by `pin` (its value, file or environment variable), or empty. Throws config_error
/// pin_unreadable naming the file or variable.
std::string resolve_pin(const pin_source& pin);

/// Loads the key (through one engine per module, kept for the process: PKCS#11 initialisation and login
/// are per process, so once a token is logged in, later loads from it in this process are not asked
/// for the PIN again) `key_uri` and, when `cert_uri` is not empty, the certificate `cert_uri` from their
/// token. Throws config_error: token_unavailable, token_not_found, object_not_found, wrong_pin; the
/// message names the URI (pin-value redacted), never the PIN.
pkcs11_loaded pkcs11_load(const std::string& key_uri, const std::string& cert_uri, const std::string& pin);

/// `uri` with its `type` path attribute set to `type` (cert, private).
std::string pkcs11_uri_with_type(const std::string& uri, const std::string& type);

} // namespace edgeloop::tls::detail
