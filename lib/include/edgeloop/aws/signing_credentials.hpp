#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace edgeloop::aws {

/// AWS access keys that sign requests with SigV4 (sigv4.hpp): long-term keys, or temporary ones with a
/// session token and an expiry (from the IoT credentials provider, or STS). Secrets: never logged.
struct signing_credentials {
    std::string access_key_id;
    std::string secret_access_key;
    /// Sent as X-Amz-Security-Token (and signed) when not empty.
    std::string session_token;
    /// When temporary credentials stop working; none for long-term keys.
    std::optional<std::chrono::system_clock::time_point> expiration;

    /// Both keys present.
    bool complete() const noexcept { return !access_key_id.empty() && !secret_access_key.empty(); }
};

/// The credentials of the standard environment variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
/// AWS_SESSION_TOKEN (optional); none unless both keys are set and not empty.
std::optional<signing_credentials> credentials_from_environment();

} // namespace edgeloop::aws
