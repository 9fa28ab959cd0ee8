#include <edgeloop/tls/identity.hpp>

#include <string_view>
#include <utility>

namespace edgeloop::tls {

identity identity::files(std::string cert_file, std::string key_file, std::string passphrase) {
    identity id;
    id.kind_ = kind::files;
    id.cert_ = std::move(cert_file);
    id.key_ = std::move(key_file);
    id.passphrase_ = std::move(passphrase);
    return id;
}

identity identity::pem(std::string cert_pem, std::string key_pem, std::string passphrase) {
    identity id;
    id.kind_ = kind::pem;
    id.cert_ = std::move(cert_pem);
    id.key_ = std::move(key_pem);
    id.passphrase_ = std::move(passphrase);
    return id;
}

identity identity::pkcs11(std::string key_uri, std::string cert, pin_source pin) {
    identity id;
    id.kind_ = kind::pkcs11;
    id.key_ = std::move(key_uri);
    id.cert_ = std::move(cert);
    id.pin_ = std::move(pin);
    return id;
}

identity identity::tpm(std::string key, std::string cert_file) {
    identity id;
    id.kind_ = kind::tpm;
    id.key_ = std::move(key);
    id.cert_ = std::move(cert_file);
    return id;
}

identity identity::from_arguments(std::string cert, std::string key, std::string passphrase, pin_source pin) {
    if (cert.empty() && key.empty())
        return {};
    if (std::string_view(key).substr(0, 7) == "pkcs11:")
        return pkcs11(std::move(key), std::move(cert), std::move(pin));
    if (std::string_view(key).substr(0, 7) == "handle:")
        return tpm(std::move(key), std::move(cert));
    return files(std::move(cert), std::move(key), std::move(passphrase));
}

std::string identity::describe() const {
    switch (kind_) {
    case kind::none:
        return "no client identity";
    case kind::files:
        return "certificate " + cert_ + ", key " + key_;
    case kind::pem:
        return "certificate and key in memory";
    case kind::pkcs11:
        return "PKCS#11 key " + redact_pkcs11_uri(key_) + ", certificate " +
               (cert_.empty() ? std::string("from the token") : redact_pkcs11_uri(cert_));
    case kind::tpm:
        return "TPM key " + key_ + ", certificate " + cert_;
    }
    return {};
}

std::string redact_pkcs11_uri(const std::string& uri) {
    std::string out;
    std::size_t i = 0;
    while (i < uri.size()) {
        std::size_t end = uri.find_first_of(";?&", i);
        if (end == std::string::npos)
            end = uri.size();
        std::string_view attr(uri.data() + i, end - i);
        if (attr.substr(0, 10) == "pin-value=")
            out += "pin-value=<redacted>";
        else
            out += attr;
        if (end < uri.size())
            out += uri[end];
        i = end + 1;
    }
    return out;
}

} // namespace edgeloop::tls
