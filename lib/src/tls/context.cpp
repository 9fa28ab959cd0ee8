#include <edgeloop/core/log.hpp>
#include <edgeloop/tls/context.hpp>

#include "pkcs11.hpp"
#include "tpm.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>

namespace edgeloop::tls {

namespace {

namespace ssl = boost::asio::ssl;

[[noreturn]] void fail(error e, const std::string& what, const std::string& path,
                       const std::string& extra = {}) {
    std::string message = what + " " + path + ": " + make_error_code(e).message();
    if (!extra.empty())
        message += " (" + extra + ")";
    throw config_error(make_error_code(e), message);
}

/// Text of the most recent OpenSSL error, and an empty error queue.
std::string openssl_reason() {
    unsigned long code = ERR_peek_last_error();
    std::string reason;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        reason = buf;
    }
    ERR_clear_error();
    return reason;
}

/// Reads a whole file (certificate or key), failing with the reason a user can act on.
std::string read_file(const std::string& what, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            fail(error::file_not_found, what, path);
        fail(error::file_unreadable, what, path, std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        fail(error::file_unreadable, what, path, "is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(error::file_unreadable, what, path, std::strerror(errno));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Reads a whole PEM file, failing with the reason a user can act on.
std::string read_pem(const std::string& what, const std::string& path) {
    std::string content = read_file(what, path);
    if (content.find("-----BEGIN ") == std::string::npos)
        fail(error::not_pem, what, path);
    return content;
}

struct bio_deleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct pkey_deleter {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
    // Without this callback OpenSSL would prompt on the terminal and block the loop; an empty
    // passphrase makes the decryption fail instead.
    const auto* pass = static_cast<const std::string*>(user);
    if (pass->empty() || static_cast<int>(pass->size()) > size)
        return 0;
    std::memcpy(buf, pass->data(), pass->size());
    return static_cast<int>(pass->size());
}

void load_trust(SSL_CTX* ctx, const options& o) {
    if (!o.ca_file.empty()) {
        read_pem("CA file", o.ca_file);
        if (SSL_CTX_load_verify_file(ctx, o.ca_file.c_str()) != 1)
            fail(error::no_certificate_in_file, "CA file", o.ca_file, openssl_reason());
    }
    if (!o.ca_dir.empty()) {
        struct stat st {};
        if (::stat(o.ca_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            fail(error::file_not_found, "CA directory", o.ca_dir);
        if (SSL_CTX_load_verify_dir(ctx, o.ca_dir.c_str()) != 1)
            fail(error::file_unreadable, "CA directory", o.ca_dir, openssl_reason());
    }
    if ((o.ca_file.empty() && o.ca_dir.empty()) || o.use_system_store) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            fail(error::file_unreadable, "system trust store", X509_get_default_cert_file(),
                 openssl_reason());
    }
}

struct x509_deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};

bool is_pem(const std::string& content) {
    return content.find("-----BEGIN ") != std::string::npos;
}

/// Installs the certificate chain in `content` (PEM, leaf first, or one DER certificate).
void use_certificate_chain(SSL_CTX* ctx, const std::string& content, const std::string& where) {
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    std::unique_ptr<X509, x509_deleter> leaf;
    if (is_pem(content))
        leaf.reset(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
    else
        leaf.reset(d2i_X509_bio(bio.get(), nullptr));
    if (!leaf)
        fail(is_pem(content) ? error::no_certificate_in_file : error::not_pem, "client certificate", where,
             is_pem(content) ? openssl_reason() : "neither PEM nor a DER certificate");
    if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
        fail(error::no_certificate_in_file, "client certificate", where, openssl_reason());
    SSL_CTX_clear_chain_certs(ctx);
    if (!is_pem(content))
        return;
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            fail(error::no_certificate_in_file, "client certificate", where, openssl_reason());
        }
    }
    ERR_clear_error(); // the end of the PEM data
}

/// Installs the private key in `content` (PEM, possibly encrypted, or unencrypted DER) and checks that
/// it matches the certificate.
void use_private_key(SSL_CTX* ctx, const std::string& content, const std::string& passphrase,
                     const std::string& where, const std::string& cert_where) {
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    std::unique_ptr<EVP_PKEY, pkey_deleter> key;
    if (is_pem(content))
        key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback,
                                          const_cast<std::string*>(&passphrase)));
    else
        key.reset(d2i_PrivateKey_bio(bio.get(), nullptr));
    if (!key) {
        ERR_clear_error();
        if (!is_pem(content))
            fail(error::not_pem, "client key", where, "neither PEM nor a DER private key");
        if (content.find("ENCRYPTED") != std::string::npos)
            fail(passphrase.empty() ? error::passphrase_required : error::wrong_passphrase, "client key",
                 where);
        fail(error::not_pem, "client key", where, "no private key in file");
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        fail(error::key_mismatch, "client key", where, "certificate " + cert_where);
    }
}

void warn_key_mode(const std::string& key_file) {
    struct stat st {};
    if (::stat(key_file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        core::log::write(core::log_level::warn, "client key " + key_file + " has mode " + mode +
                                                    ": accessible by group or others (chmod 600 it)");
    }
}

/// A key in the TPM (handle or TSS2 file) for the certificate already in ctx.
void use_tpm_key(SSL_CTX* ctx, const std::string& key, const std::string& cert_where) {
    const auto pkey = detail::tpm_load_key(key);
    if (SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        fail(error::key_mismatch, "client key", key, "certificate " + cert_where);
    }
}

/// The identity the options name: client_identity, or cert_file/key_file/key_passphrase.
identity effective_identity(const options& o) {
    const bool files_given = !o.cert_file.empty() || !o.key_file.empty();
    if (!o.client_identity.empty() && files_given)
        fail(error::identity_conflict, "client", o.client_identity.describe());
    if (files_given)
        return identity::files(o.cert_file, o.key_file, o.key_passphrase);
    return o.client_identity;
}

void load_client_identity(SSL_CTX* ctx, const identity& id) {
    switch (id.type()) {
    case identity::kind::none:
        return;
    case identity::kind::files: {
        if (id.cert().empty() || id.key().empty())
            fail(error::key_without_certificate, "client", id.cert().empty() ? id.key() : id.cert());
        use_certificate_chain(ctx, read_file("client certificate", id.cert()), id.cert());
        const std::string key = read_file("client key", id.key());
        if (detail::is_tss2_pem(key)) {
            use_tpm_key(ctx, id.key(), id.cert());
            return;
        }
        warn_key_mode(id.key());
        use_private_key(ctx, key, id.passphrase(), id.key(), id.cert());
        return;
    }
    case identity::kind::tpm:
        if (id.cert().empty())
            fail(error::key_without_certificate, "client", id.key());
        use_certificate_chain(ctx, read_file("client certificate", id.cert()), id.cert());
        use_tpm_key(ctx, id.key(), id.cert());
        return;
    case identity::kind::pem:
        if (id.cert().empty() || id.key().empty())
            fail(error::key_without_certificate, "client", "(in memory)");
        if (!is_pem(id.cert()))
            fail(error::not_pem, "client certificate", "(in memory)");
        if (!is_pem(id.key()))
            fail(error::not_pem, "client key", "(in memory)");
        use_certificate_chain(ctx, id.cert(), "(in memory)");
        use_private_key(ctx, id.key(), id.passphrase(), "(in memory)", "(in memory)");
        return;
    case identity::kind::pkcs11: {
        if (id.key().rfind("pkcs11:", 0) != 0)
            fail(error::object_not_found, "client key", redact_pkcs11_uri(id.key()), "not a pkcs11: URI");
        const bool cert_in_token = id.cert().empty() || id.cert().rfind("pkcs11:", 0) == 0;
        const std::string cert_uri =
            id.cert().empty() ? detail::pkcs11_uri_with_type(id.key(), "cert") : id.cert();
        const std::string pin = detail::resolve_pin(id.pin());
        auto loaded = detail::pkcs11_load(id.key(), cert_in_token ? cert_uri : std::string(), pin);
        const std::string cert_where = cert_in_token ? redact_pkcs11_uri(cert_uri) : id.cert();
        if (cert_in_token) {
            if (SSL_CTX_use_certificate(ctx, loaded.cert.get()) != 1)
                fail(error::no_certificate_in_file, "client certificate", cert_where, openssl_reason());
        } else {
            use_certificate_chain(ctx, read_file("client certificate", id.cert()), id.cert());
        }
        if (SSL_CTX_use_PrivateKey(ctx, loaded.key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
            ERR_clear_error();
            fail(error::key_mismatch, "client key", redact_pkcs11_uri(id.key()), "certificate " + cert_where);
        }
        return;
    }
    }
}

std::string format_time(std::time_t t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/// notAfter of the installed client certificate; refuses an expired one and warns about one expiring
/// within o.expiry_warning_days.
std::optional<std::chrono::system_clock::time_point> check_expiry(SSL_CTX* ctx, const options& o,
                                                                  const identity& id) {
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    if (!leaf)
        return std::nullopt;
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1)
        return std::nullopt;
    const std::time_t not_after = ::timegm(&tm);
    const std::time_t now = std::time(nullptr);
    const std::string where =
        id.type() == identity::kind::files || id.type() == identity::kind::pkcs11 ||
                id.type() == identity::kind::tpm
            ? (id.cert().empty() ? redact_pkcs11_uri(id.key()) : redact_pkcs11_uri(id.cert()))
            : std::string("(in memory)");
    if (not_after <= now)
        fail(error::client_certificate_expired, "client certificate", where,
             "expired " + format_time(not_after) + "; the system clock says " + format_time(now));
    const long days_left = static_cast<long>((not_after - now) / 86400);
    if (o.expiry_warning_days > 0 && days_left < static_cast<long>(o.expiry_warning_days))
        core::log::write(core::log_level::warn, "client certificate " + where + " expires " +
                                                    format_time(not_after) + ", in " +
                                                    std::to_string(days_left) + " days: renew it");
    return std::chrono::system_clock::from_time_t(not_after);
}

/// The client certificate's subject CN, or empty.
std::string leaf_common_name(SSL_CTX* ctx) {
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    if (!leaf)
        return {};
    const X509_NAME* subject = X509_get_subject_name(leaf);
    const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at < 0)
        return {};
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
    if (n < 0)
        return {};
    std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    return cn;
}

void set_alpn(SSL_CTX* ctx, const options& o) {
    if (o.alpn.empty())
        return;
    std::string wire;
    for (const auto& p : o.alpn) {
        if (p.empty() || p.size() > 255)
            fail(error::bad_alpn, "ALPN protocol", "\"" + p + "\"");
        wire += static_cast<char>(p.size());
        wire += p;
    }
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0)
        fail(error::bad_alpn, "ALPN list", "", openssl_reason());
}

} // namespace

namespace {

/// Whether the options name a TPM key: identity::tpm(), or a TSS2 key file given as a file.
bool names_tpm_key(const options& o) {
    const identity& id = o.client_identity;
    if (id.type() == identity::kind::tpm)
        return true;
    const std::string& key = id.type() == identity::kind::files ? id.key() : o.key_file;
    if (key.empty())
        return false;
    std::ifstream in(key, std::ios::binary);
    std::string head(64, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    return detail::is_tss2_pem(head);
}

/// The SSL_CTX for `o`, made after the providers its identity needs are loaded (see ensure_tpm2_provider).
std::shared_ptr<ssl::context> make_ssl_context(const options& o) {
    if (names_tpm_key(o))
        detail::ensure_tpm2_provider("client key");
    return std::make_shared<ssl::context>(ssl::context::tls_client);
}

} // namespace

context::context(options opts)
    : ctx_(make_ssl_context(opts))
    , opts_(std::make_shared<const options>(std::move(opts))) {
    SSL_CTX* native = ctx_->native_handle();
    const options& o = *opts_;
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        throw config_error(make_error_code(error::protocol_version_rejected), "cannot set TLS 1.2 minimum");
    ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (o.insecure) {
        ctx_->set_verify_mode(ssl::verify_none);
    } else {
        ctx_->set_verify_mode(ssl::verify_peer);
        load_trust(native, o);
    }
    const identity id = effective_identity(o);
    load_client_identity(native, id);
    expiry_ = check_expiry(native, o, id);
    cn_ = std::make_shared<const std::string>(leaf_common_name(native));
    set_alpn(native, o);
}

bool context::has_client_identity() const noexcept {
    SSL_CTX* native = ctx_->native_handle();
    return SSL_CTX_get0_certificate(native) != nullptr || SSL_CTX_get0_privatekey(native) != nullptr ||
           SSL_CTX_get_client_cert_cb(native) != nullptr;
}

} // namespace edgeloop::tls
