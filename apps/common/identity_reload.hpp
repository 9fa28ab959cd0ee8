#pragma once

// Rotation in both apps: --cert/--key loaded again into the client when their files change (inotify) or
// on SIGHUP, said on stdout ("identity reloaded (cert CN=..., expires ...)"), or the load error on
// stderr with the old identity kept.

#include <edgeloop/core/reactor.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/tls/expiry_check.hpp>
#include <edgeloop/tls/identity.hpp>
#include <edgeloop/tls/identity_watch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace app_common {

/// What the apps' --cert/--key/--pass/--pin-file name, loaded again into `client`.
struct identity_args {
    std::string cert, key, pass, pin_file;
};

/// Loads the identity again into `client` (kept as it was when that fails) and says so; `what` says why.
inline void reload_identity(const char* app, edgeloop::http::client& client, const identity_args& a,
                            std::string_view what) {
    namespace tls = edgeloop::tls;
    try {
        client.set_identity(tls::identity::from_arguments(a.cert, a.key, a.pass, {.file = a.pin_file}));
    } catch (const tls::config_error& e) {
        std::fprintf(stderr, "%s: %.*s: identity not reloaded, keeping the current one: %s\n", app,
                     static_cast<int>(what.size()), what.data(), e.what());
        return;
    }
    std::string expires = "unknown";
    if (const auto when = client.tls_context()->client_certificate_expiry()) {
        const std::time_t t = std::chrono::system_clock::to_time_t(*when);
        std::tm tm{};
        ::gmtime_r(&t, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
        expires = buf;
    }
    std::printf("%s: %.*s: identity reloaded (cert CN=%s, expires %s)\n", app, static_cast<int>(what.size()),
                what.data(), client.tls_context()->client_certificate_cn().c_str(), expires.c_str());
    std::fflush(stdout);
}

/// Watches --cert/--key (and SIGHUP) for the life of the reactor's loop; `*target` (set later, or null:
/// nothing to reload yet) gets the identity again. Nothing without a --key. No inotify: a warning, and
/// SIGHUP only.
inline void watch_identity(const char* app, edgeloop::core::reactor& reactor,
                           std::optional<edgeloop::tls::identity_watch>& watch, identity_args args,
                           edgeloop::http::client* const& target) {
    if (args.key.empty())
        return;
    const auto make = [&](std::vector<std::string> files) {
        watch.emplace(reactor.executor(), std::move(files), [app, args, &target](std::string_view what) {
            if (target)
                reload_identity(app, *target, args, what);
        });
        reactor.on_stop([&watch] { watch->stop(); });
    };
    try {
        make({args.cert, args.key});
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "%s: %s: the certificate is reloaded on SIGHUP only\n", app, e.what());
        make({});
    }
}

/// The daily re-check of the client certificate's expiry (tls::expiry_check) of `*target` (null:
/// none), every `interval` (EDGELOOP_EXPIRY_CHECK_SECONDS overrides it, for tests), for the life of the
/// reactor's loop.
inline void check_expiry_daily(edgeloop::core::reactor& reactor,
                               std::optional<edgeloop::tls::expiry_check>& check,
                               edgeloop::http::client* const& target,
                               std::chrono::milliseconds interval = std::chrono::hours(24)) {
    if (const char* s = std::getenv("EDGELOOP_EXPIRY_CHECK_SECONDS"); s != nullptr && *s != '\0') {
        char* end = nullptr;
        const double seconds = std::strtod(s, &end);
        if (end != s && *end == '\0' && seconds > 0 && seconds <= 86400.0 * 365)
            interval = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    }
    check.emplace(
        reactor.executor(),
        [&target]() -> const edgeloop::tls::context* { return target ? target->tls_context() : nullptr; },
        interval);
    reactor.on_stop([&check] { check->stop(); });
}

} // namespace app_common
