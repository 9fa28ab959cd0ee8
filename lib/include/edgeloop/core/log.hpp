#pragma once

#include <string>
#include <string_view>

namespace edgeloop::core {

/// Severity of a log line; lines below the current threshold are not formatted at all.
enum class log_level { trace, debug, info, warn, error, off };

/// Process-wide logger writing one line per call to stderr ("edgeloop: warn: ...").
/// Secrets never reach it: callers pass header values through redact_header(), and the tls module
/// never logs passphrases or key material.
class log {
public:
    static void set_level(log_level level) noexcept;
    static log_level level() noexcept;
    static bool enabled(log_level level) noexcept { return level >= log::level(); }
    static void write(log_level level, std::string_view message);
};

/// Returns the header value as it may appear in a log: credentials (Authorization, Proxy-Authorization,
/// Cookie, Set-Cookie, X-Amz-Security-Token, ...) are replaced by "<redacted>".
std::string redact_header(std::string_view name, std::string_view value);

/// True for header names whose values are secrets.
bool is_secret_header(std::string_view name) noexcept;

/// Returns the URL as it may appear in a log: credentials in its userinfo ("user:password@") are
/// replaced by "<redacted>@"; anything else is kept as it is.
std::string redact_url(std::string_view url);

} // namespace edgeloop::core
