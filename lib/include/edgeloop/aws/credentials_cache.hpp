#pragma once

#include <edgeloop/aws/signing_credentials.hpp>

#include <chrono>
#include <optional>

namespace edgeloop::aws {

/// How long before their expiration temporary credentials are replaced: a request signed with them
/// must still be in time when AWS checks it (AWS's SDKs refresh 5 minutes ahead as well).
inline constexpr std::chrono::seconds default_refresh_margin{5 * 60};

/// Keeps temporary credentials until shortly before they expire, sans-io (the caller says what time it
/// is). Rules: nothing cached is never fresh; credentials without an expiration (long-term keys) are
/// always fresh; temporary ones are fresh while now + margin < expiration.
class credentials_cache {
public:
    explicit credentials_cache(std::chrono::seconds refresh_margin = default_refresh_margin) noexcept
        : margin_(refresh_margin) {}

    /// The cached credentials when they are fresh at `now`, none otherwise.
    std::optional<signing_credentials> fresh(std::chrono::system_clock::time_point now) const;
    /// When the cached credentials stop being fresh (expiration - margin); none when nothing is cached
    /// or the credentials do not expire.
    std::optional<std::chrono::system_clock::time_point> refresh_at() const noexcept;

    void store(signing_credentials creds) { creds_ = std::move(creds); }
    void clear() noexcept { creds_.reset(); }
    std::chrono::seconds margin() const noexcept { return margin_; }

private:
    std::chrono::seconds margin_;
    std::optional<signing_credentials> creds_;
};

} // namespace edgeloop::aws
