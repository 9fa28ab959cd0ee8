#include <edgeloop/core/log.hpp>
#include <edgeloop/tls/context.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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

/// Reads a whole PEM file, failing with the reason a user can act on.
std::string read_pem(const std::string& what, const std::string& path) {
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
    std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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

void load_client_identity(SSL_CTX* ctx, const options& o) {
    if (o.cert_file.empty() && o.key_file.empty())
        return;
    if (o.cert_file.empty() || o.key_file.empty())
        fail(error::key_without_certificate, "client", o.cert_file.empty() ? o.key_file : o.cert_file);

    read_pem("client certificate", o.cert_file);
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
        fail(error::no_certificate_in_file, "client certificate", o.cert_file, openssl_reason());

    const std::string pem = read_pem("client key", o.key_file);
    struct stat st {};
    if (::stat(o.key_file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        core::log::write(core::log_level::warn, "client key " + o.key_file + " has mode " + mode +
                                                    ": accessible by group or others (chmod 600 it)");
    }

    std::unique_ptr<BIO, bio_deleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<EVP_PKEY, pkey_deleter> key(PEM_read_bio_PrivateKey(
        bio.get(), nullptr, passphrase_callback, const_cast<std::string*>(&o.key_passphrase)));
    if (!key) {
        ERR_clear_error();
        if (pem.find("ENCRYPTED") != std::string::npos)
            fail(o.key_passphrase.empty() ? error::passphrase_required : error::wrong_passphrase,
                 "client key", o.key_file);
        fail(error::not_pem, "client key", o.key_file, "no private key in file");
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        fail(error::key_mismatch, "client key", o.key_file, "certificate " + o.cert_file);
    }
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

context::context(options opts)
    : ctx_(std::make_shared<ssl::context>(ssl::context::tls_client))
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
    load_client_identity(native, o);
    set_alpn(native, o);
}

bool context::has_client_identity() const noexcept {
    SSL_CTX* native = ctx_->native_handle();
    return SSL_CTX_get0_certificate(native) != nullptr || SSL_CTX_get0_privatekey(native) != nullptr ||
           SSL_CTX_get_client_cert_cb(native) != nullptr;
}

} // namespace edgeloop::tls
