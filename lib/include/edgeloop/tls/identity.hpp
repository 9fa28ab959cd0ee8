#pragma once

#include <string>

namespace edgeloop::tls {

/// Where the PIN of a PKCS#11 token comes from: the PIN itself, a file (its first line), or an
/// environment variable. At most one may be set; none: the token is used without logging in (or the
/// key URI carries `pin-value`/`pin-source`). Read when the context is built; never logged.
struct pin_source {
    std::string value;
    std::string file;
    std::string env;

    bool empty() const noexcept { return value.empty() && file.empty() && env.empty(); }
};

/// The client identity for mutual TLS: a certificate (chain) and its private key, named one of three
/// ways, built with the named constructors below:
///   - files():  PEM or DER files (the key possibly encrypted, PEM only);
///   - pem():    PEM bytes in memory (nothing is written to disk);
///   - pkcs11(): a private key in a PKCS#11 token (RFC 7512 URI, `pkcs11:token=...;object=...`),
///               loaded through OpenSSL's pkcs11 engine (libp11); the certificate from the token too
///               (`pkcs11:...;type=cert`) or from a PEM/DER file;
///   - tpm():    a private key in a TPM 2.0 (a persistent handle `handle:0x81000001`, or a TSS2 key
///               file, `-----BEGIN TSS2 PRIVATE KEY-----`), loaded through OSSL_STORE with OpenSSL 3's
///               tpm2 provider (Debian tpm2-openssl), the certificate from a PEM/DER file. The provider
///               finds the TPM through its TCTI: the environment variable TPM2OPENSSL_TCTI (e.g.
///               `device:/dev/tpmrm0`, `tabrmd`, `swtpm:host=127.0.0.1,port=2321`), read once per process
///               when the provider is first loaded.
/// tls::context loads it once; every failure is a tls::config_error naming the file, URI, token or
/// object at fault, never the PIN, passphrase or key bytes (describe() is safe to log).
///
/// A value type (a few strings); it is taken by tls::options, which tls::context reads once.
class identity {
public:
    enum class kind { none, files, pem, pkcs11, tpm };

    /// No client identity.
    identity() = default;

    /// Certificate chain file (PEM, leaf first; or one DER certificate) and private key file (PEM,
    /// possibly encrypted with `passphrase`, or unencrypted DER).
    static identity files(std::string cert_file, std::string key_file, std::string passphrase = {});

    /// Certificate chain and private key as PEM text in memory.
    static identity pem(std::string cert_pem, std::string key_pem, std::string passphrase = {});

    /// A private key in a PKCS#11 token. `key_uri` is an RFC 7512 URI (`pkcs11:token=T;object=O`,
    /// `type=private` implied); its query attribute `module-path=/path/to/module.so` chooses the PKCS#11
    /// module (default: the engine's, p11-kit's proxy). `cert` is another `pkcs11:` URI, a certificate
    /// file, or empty for the key URI's object with `type=cert`.
    static identity pkcs11(std::string key_uri, std::string cert = {}, pin_source pin = {});

    /// A private key in a TPM 2.0: `key` is `handle:0x81000001` (a persistent handle) or the path of a
    /// TSS2 PEM key file; `cert_file` its certificate (PEM chain or DER). A TSS2 key file given to
    /// files() is loaded this way too.
    static identity tpm(std::string key, std::string cert_file);

    /// What the apps' --cert/--key/--pass/--pin-file take: a `pkcs11:` key is pkcs11(), a `handle:` key
    /// tpm(), anything else files(). Both empty: none.
    static identity from_arguments(std::string cert, std::string key, std::string passphrase = {},
                                   pin_source pin = {});

    kind type() const noexcept { return kind_; }
    bool empty() const noexcept { return kind_ == kind::none; }

    /// files(): the certificate file; pem(): the certificate PEM; pkcs11(): the certificate URI or file.
    const std::string& cert() const noexcept { return cert_; }
    /// files(): the key file; pem(): the key PEM (a secret); pkcs11(): the key URI; tpm(): the handle or
    /// the TSS2 key file.
    const std::string& key() const noexcept { return key_; }
    const std::string& passphrase() const noexcept { return passphrase_; }
    const pin_source& pin() const noexcept { return pin_; }

    /// For logs and errors: where the identity comes from, without a PIN, passphrase or key bytes
    /// (a URI's `pin-value` is shown as `pin-value=<redacted>`).
    std::string describe() const;

private:
    kind kind_ = kind::none;
    std::string cert_;
    std::string key_;
    std::string passphrase_;
    pin_source pin_;
};

/// `uri` with the value of a `pin-value` attribute replaced by `<redacted>`.
std::string redact_pkcs11_uri(const std::string& uri);

} // namespace edgeloop::tls
