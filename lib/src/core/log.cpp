#include <edgeloop/core/log.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>

namespace edgeloop::core {

namespace {

std::atomic<log_level> current_level{log_level::warn};
std::mutex write_mutex;

constexpr std::array<std::string_view, 5> level_names{"trace", "debug", "info", "warn", "error"};

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace

void log::set_level(log_level level) noexcept {
    current_level.store(level, std::memory_order_relaxed);
}

log_level log::level() noexcept {
    return current_level.load(std::memory_order_relaxed);
}

void log::write(log_level level, std::string_view message) {
    if (!enabled(level) || level == log_level::off)
        return;
    std::string line = "edgeloop: ";
    line += level_names[static_cast<std::size_t>(level)];
    line += ": ";
    line += message;
    line += '\n';
    // One fwrite per line under a lock keeps lines whole when several threads log.
    std::lock_guard lock(write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

bool is_secret_header(std::string_view name) noexcept {
    constexpr std::array<std::string_view, 7> secret{"authorization", "proxy-authorization",  "cookie",
                                                     "set-cookie",    "x-amz-security-token", "x-api-key",
                                                     "x-auth-token"};
    return std::any_of(secret.begin(), secret.end(), [&](std::string_view s) { return iequals(s, name); });
}

std::string redact_header(std::string_view name, std::string_view value) {
    if (is_secret_header(name))
        return "<redacted>";
    return std::string(value);
}

std::string redact_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos)
        return std::string(url);
    const auto authority = scheme_end + 3;
    const auto authority_end = std::min(url.find_first_of("/?#", authority), url.size());
    const auto at = url.substr(0, authority_end).rfind('@');
    if (at == std::string_view::npos || at < authority)
        return std::string(url);
    std::string out(url.substr(0, authority));
    out += "<redacted>";
    out += url.substr(at);
    return out;
}

} // namespace edgeloop::core
