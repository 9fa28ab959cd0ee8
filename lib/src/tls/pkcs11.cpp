// The ENGINE API is deprecated in OpenSSL 3 but it is the only way to PKCS#11 keys that Debian 12
// packages (libengine-pkcs11-openssl); there is no PKCS#11 provider before Debian 13.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "pkcs11.hpp"

#include <edgeloop/tls/error.hpp>

#include <libp11.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace edgeloop::tls::detail {

namespace {

[[noreturn]] void fail(error e, const std::string& subject, const std::string& extra = {}) {
    std::string message = subject + ": " + make_error_code(e).message();
    if (!extra.empty())
        message += " (" + extra + ")";
    throw config_error(make_error_code(e), message);
}

struct uri_parts {
    std::vector<std::string> path;  ///< "name=value" attributes before '?'
    std::vector<std::string> query; ///< "name=value" attributes after '?'
};

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto pos = s.find(sep);
        if (pos != 0)
            out.emplace_back(s.substr(0, pos));
        if (pos == std::string_view::npos)
            break;
        s.remove_prefix(pos + 1);
    }
    return out;
}

uri_parts parse(const std::string& uri) {
    std::string_view rest(uri);
    rest.remove_prefix(std::min<std::size_t>(rest.size(), 7)); // "pkcs11:"
    auto q = rest.find('?');
    uri_parts p;
    p.path = split(rest.substr(0, q), ';');
    if (q != std::string_view::npos)
        p.query = split(rest.substr(q + 1), '&');
    return p;
}

std::string join(const uri_parts& p) {
    std::string out = "pkcs11:";
    for (std::size_t i = 0; i < p.path.size(); ++i)
        out += (i ? ";" : "") + p.path[i];
    for (std::size_t i = 0; i < p.query.size(); ++i)
        out += (i ? "&" : "?") + p.query[i];
    return out;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            auto hex = std::string(s.substr(i + 1, 2));
            char* end = nullptr;
            long v = std::strtol(hex.c_str(), &end, 16);
            if (end == hex.c_str() + 2) {
                out += static_cast<char>(v);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

/// Removes the attribute `name` from `attrs` and returns its (percent-decoded) value, or empty.
std::string take(std::vector<std::string>& attrs, std::string_view name) {
    for (auto it = attrs.begin(); it != attrs.end(); ++it) {
        std::string_view a(*it);
        if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
            std::string value = percent_decode(a.substr(name.size() + 1));
            attrs.erase(it);
            return value;
        }
    }
    return {};
}

std::string value_of(const std::vector<std::string>& attrs, std::string_view name) {
    auto copy = attrs;
    return take(copy, name);
}

/// True when the error queue holds a PKCS#11 PIN failure (CKR_PIN_INCORRECT, _INVALID, _LEN_RANGE,
/// _EXPIRED, _LOCKED: libp11 reports the CKR code as the reason). Empties the queue.
bool queue_has_pin_failure(std::string& last) {
    bool pin = false;
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        const char* reason = ERR_reason_error_string(code);
        if (reason) {
            last = reason;
            if (std::string_view(reason).find("PIN") != std::string_view::npos)
                pin = true;
        }
    }
    return pin;
}

/// A UI that never prompts: without it, the engine would ask for a missing PIN on the terminal and
/// block the event loop.
UI_METHOD* no_prompt_ui() {
    static UI_METHOD* method = [] {
        UI_METHOD* m = UI_create_method("edgeloop: no PIN prompt");
        UI_method_set_reader(m, [](UI*, UI_STRING*) { return 0; });
        return m;
    }();
    return method;
}

/// A libp11 context per module for telling a missing token from a missing object, and its slot list.
/// Kept for the process and never released: PKCS11_CTX_unload would C_Finalize the module, and
/// releasing the slots C_CloseAllSessions them, under the engine's sessions (PKCS#11 initialisation and
/// sessions are per process).
/// (PKCS11_update_slots on an old list crashes in libp11 0.4.12: each diagnosis enumerates anew and
/// keeps its list, a few hundred bytes per failed load.)
struct diagnosis_context {
    PKCS11_CTX* ctx = nullptr;
    std::vector<std::pair<PKCS11_SLOT*, unsigned>> lists;
};

std::map<std::string, diagnosis_context>& diagnosis_contexts() {
    static std::map<std::string, diagnosis_context> contexts;
    return contexts;
}

/// One pkcs11 engine per module for the whole process, never finished: PKCS#11 initialisation and login
/// are per process, and a second engine finishing (C_Finalize) would end the first one's sessions.
/// Guarded by pkcs11_mutex(), as the engine's PIN is engine-wide.
std::map<std::string, ENGINE*>& engines() {
    static std::map<std::string, ENGINE*> map;
    return map;
}

std::mutex& pkcs11_mutex() {
    static std::mutex m;
    return m;
}

/// After a failed load: does a token match the URI's token attributes? Lists the tokens present when
/// none does. Uses libp11 directly (the engine reports a missing token and a missing object alike).
bool token_present(const std::string& module, const uri_parts& p, std::string& present) {
    const std::string label = value_of(p.path, "token");
    const std::string serial = value_of(p.path, "serial");
    const std::string manufacturer = value_of(p.path, "manufacturer");
    const std::string model = value_of(p.path, "model");
    if (label.empty() && serial.empty() && manufacturer.empty() && model.empty())
        return true;
    diagnosis_context& diag = diagnosis_contexts()[module];
    PKCS11_CTX*& ctx = diag.ctx;
    if (!ctx) {
        PKCS11_CTX* fresh = PKCS11_CTX_new();
        if (!fresh)
            return true;
        if (PKCS11_CTX_load(fresh, module.c_str()) != 0) {
            PKCS11_CTX_free(fresh);
            ERR_clear_error();
            return true; // cannot tell
        }
        ctx = fresh;
    }
    bool found = true; // when the slots cannot be listed
    PKCS11_SLOT* slots = nullptr;
    unsigned n = 0;
    if (PKCS11_enumerate_slots(ctx, &slots, &n) == 0) {
        diag.lists.emplace_back(slots, n);
        found = false;
        for (unsigned i = 0; i < n; ++i) {
            const PKCS11_TOKEN* t = slots[i].token;
            if (!t || !t->initialized)
                continue;
            if (!present.empty())
                present += ", ";
            present += std::string("\"") + (t->label ? t->label : "") + "\"";
            if ((label.empty() || (t->label && label == t->label)) &&
                (serial.empty() || (t->serialnr && serial == t->serialnr)) &&
                (manufacturer.empty() || (t->manufacturer && manufacturer == t->manufacturer)) &&
                (model.empty() || (t->model && model == t->model)))
                found = true;
        }
    }
    ERR_clear_error();
    return found;
}

constexpr const char* default_module = "p11-kit-proxy.so";

} // namespace

std::string resolve_pin(const pin_source& pin) {
    int given = !pin.value.empty() + !pin.file.empty() + !pin.env.empty();
    if (given > 1)
        fail(error::pin_unreadable, "PIN", "give it one way only: value, file or environment variable");
    if (!pin.value.empty())
        return pin.value;
    if (!pin.file.empty()) {
        std::ifstream in(pin.file, std::ios::binary);
        if (!in)
            fail(error::pin_unreadable, "PIN file " + pin.file, std::strerror(errno));
        std::string line;
        std::getline(in, line);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty())
            fail(error::pin_unreadable, "PIN file " + pin.file, "empty first line");
        return line;
    }
    if (!pin.env.empty()) {
        const char* v = std::getenv(pin.env.c_str());
        if (!v || !*v)
            fail(error::pin_unreadable, "PIN environment variable " + pin.env, "not set or empty");
        return v;
    }
    return {};
}

std::string pkcs11_uri_with_type(const std::string& uri, const std::string& type) {
    uri_parts p = parse(uri);
    take(p.path, "type");
    p.path.push_back("type=" + type);
    return join(p);
}

pkcs11_loaded pkcs11_load(const std::string& key_uri_in, const std::string& cert_uri_in,
                          const std::string& pin_in) {
    const std::string key_subject = "client key " + redact_pkcs11_uri(key_uri_in);
    uri_parts key_parts = parse(key_uri_in);
    std::string module = take(key_parts.query, "module-path");
    std::string pin = pin_in;
    std::string uri_pin = take(key_parts.query, "pin-value");
    if (pin.empty())
        pin = uri_pin;
    if (module.empty())
        module = default_module;
    if (value_of(key_parts.path, "type").empty())
        key_parts.path.push_back("type=private");
    const std::string key_uri = join(key_parts);

    if (module.find('/') != std::string::npos) {
        struct stat st {};
        if (::stat(module.c_str(), &st) != 0)
            fail(error::token_unavailable, key_subject,
                 "PKCS#11 module " + module + ": " + std::strerror(errno));
    }

    std::lock_guard lock(pkcs11_mutex());
    ERR_clear_error();
    ENGINE*& raw = engines()[module];
    if (!raw) {
        ENGINE* e = ENGINE_by_id("pkcs11");
        if (!e) {
            ERR_clear_error();
            fail(error::token_unavailable, key_subject,
                 "OpenSSL's pkcs11 engine is not installed: apt-get install libengine-pkcs11-openssl");
        }
        if (ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module.c_str(), 0) != 1 || ENGINE_init(e) != 1) {
            ENGINE_free(e);
            ERR_clear_error();
            fail(error::token_unavailable, key_subject, "PKCS#11 module " + module + " cannot be loaded");
        }
        raw = e;
    }
    // The PIN of this load, or none (a PIN set for an earlier load must not be used for this one).
    // (libp11 takes no "no PIN": an empty one fails the login as a wrong one would.)
    if (ENGINE_ctrl_cmd_string(raw, "PIN", pin.c_str(), 0) != 1) {
        ERR_clear_error();
        fail(error::token_unavailable, key_subject, "the pkcs11 engine does not take a PIN");
    }

    pkcs11_loaded out;
    EVP_PKEY* key = ENGINE_load_private_key(raw, key_uri.c_str(), no_prompt_ui(), nullptr);
    if (!key) {
        std::string last;
        const bool pin_failure = queue_has_pin_failure(last);
        if (pin_failure)
            fail(error::wrong_pin, key_subject,
                 pin.empty() ? "no PIN given: a token's private keys need one" : last);
        std::string present;
        if (!token_present(module, key_parts, present))
            fail(error::token_not_found, key_subject,
                 "module " + module + (present.empty() ? ", no initialised token" : ", tokens: " + present));
        if (pin.empty())
            fail(error::wrong_pin, key_subject, "no PIN given: a token's private keys need one");
        fail(error::object_not_found, key_subject);
    }
    out.key.reset(key, EVP_PKEY_free);

    if (!cert_uri_in.empty()) {
        uri_parts cert_parts = parse(cert_uri_in);
        take(cert_parts.query, "module-path");
        take(cert_parts.query, "pin-value");
        if (value_of(cert_parts.path, "type").empty())
            cert_parts.path.push_back("type=cert");
        const std::string cert_uri = join(cert_parts);
        struct {
            const char* id;
            X509* cert;
        } params{cert_uri.c_str(), nullptr};
        if (ENGINE_ctrl_cmd(raw, "LOAD_CERT_CTRL", 0, &params, nullptr, 1) != 1 || !params.cert) {
            ERR_clear_error();
            fail(error::object_not_found, "client certificate " + redact_pkcs11_uri(cert_uri_in));
        }
        out.cert.reset(params.cert, X509_free);
    }
    return out;
}

} // namespace edgeloop::tls::detail
