#pragma once

// Keys in a TPM 2.0 through OpenSSL 3's tpm2 provider (Debian tpm2-openssl) and OSSL_STORE.

#include <openssl/types.h>

#include <memory>
#include <string>

namespace edgeloop::tls::detail {

/// True for the text of a TSS2 PEM key file ("-----BEGIN TSS2 PRIVATE KEY-----").
bool is_tss2_pem(const std::string& content) noexcept;

/// Loads the tpm2 provider (once per process). Needed before the SSL_CTX that will use a TPM key is
/// made: an SSL_CTX fetches its signature algorithms when it is created, and one made before the
/// provider was loaded hands the TPM's key to the default provider, which has no private half
/// ("missing private key" in the handshake). Throws config_error token_unavailable naming `subject`.
void ensure_tpm2_provider(const std::string& subject);

/// Loads the private key `key` (`handle:0x...` or a TSS2 key file) through the tpm2 provider, loaded
/// once per process (with the default provider kept). Throws config_error: token_unavailable (the
/// provider cannot be loaded, or the TPM cannot be reached: its TCTI named), object_not_found (no key
/// there), file_not_found (no such TSS2 file).
std::shared_ptr<EVP_PKEY> tpm_load_key(const std::string& key);

} // namespace edgeloop::tls::detail
