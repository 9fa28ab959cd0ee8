#include "tpm.hpp"

#include <edgeloop/tls/error.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>

#include <cstdlib>
#include <mutex>
#include <string_view>
#include <sys/stat.h>

namespace edgeloop::tls::detail {

namespace {

[[noreturn]] void fail(error e, const std::string& subject, const std::string& extra = {}) {
    std::string message = subject + ": " + make_error_code(e).message();
    if (!extra.empty())
        message += " (" + extra + ")";
    throw config_error(make_error_code(e), message);
}

/// The first error on OpenSSL's queue, which is then cleared.
std::string openssl_reason() {
    const unsigned long code = ERR_peek_error();
    std::string out;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        out = buf;
    }
    ERR_clear_error();
    return out;
}

std::string tcti() {
    const char* v = std::getenv("TPM2OPENSSL_TCTI");
    return v && *v ? std::string("TPM2OPENSSL_TCTI=") + v
                   : std::string("TPM2OPENSSL_TCTI unset: the default TCTI");
}

/// Loads the tpm2 provider once; the default provider stays available (retain_fallbacks).
OSSL_PROVIDER* tpm2_provider(std::string& reason) {
    static std::mutex mutex;
    static OSSL_PROVIDER* provider = nullptr;
    std::lock_guard lock(mutex);
    if (provider == nullptr) {
        provider = OSSL_PROVIDER_try_load(nullptr, "tpm2", 1);
        if (provider == nullptr)
            reason = openssl_reason();
    }
    return provider;
}

} // namespace

bool is_tss2_pem(const std::string& content) noexcept {
    return content.find("-----BEGIN TSS2 PRIVATE KEY-----") != std::string::npos;
}

void ensure_tpm2_provider(const std::string& subject) {
    std::string reason;
    if (tpm2_provider(reason) == nullptr)
        fail(error::token_unavailable, subject,
             "the tpm2 provider of OpenSSL (Debian tpm2-openssl) cannot be loaded" +
                 (reason.empty() ? std::string() : ": " + reason));
}

std::shared_ptr<EVP_PKEY> tpm_load_key(const std::string& key) {
    const bool handle = std::string_view(key).substr(0, 7) == "handle:";
    if (!handle) {
        struct stat st {};
        if (::stat(key.c_str(), &st) != 0)
            fail(error::file_not_found, "client key", key);
    }
    ensure_tpm2_provider("client key " + key);
    // A handle is the provider's own URI scheme; a TSS2 file goes through the file store, whose
    // decoders include the provider's.
    OSSL_STORE_CTX* store = OSSL_STORE_open_ex(key.c_str(), nullptr, handle ? "provider=tpm2" : nullptr,
                                               nullptr, nullptr, nullptr, nullptr, nullptr);
    if (store == nullptr) {
        const std::string why = openssl_reason();
        fail(handle ? error::token_unavailable : error::object_not_found, "client key " + key,
             "cannot open it through the TPM (" + tcti() + ")" + (why.empty() ? std::string() : ": " + why));
    }
    std::shared_ptr<EVP_PKEY> out;
    while (!out && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO* info = OSSL_STORE_load(store);
        if (info == nullptr)
            break;
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            out.reset(OSSL_STORE_INFO_get1_PKEY(info), EVP_PKEY_free);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    if (!out) {
        const std::string why = openssl_reason();
        fail(error::object_not_found, "client key " + key,
             "no private key there in the TPM (" + tcti() + ")" + (why.empty() ? std::string() : ": " + why));
    }
    ERR_clear_error();
    return out;
}

} // namespace edgeloop::tls::detail
