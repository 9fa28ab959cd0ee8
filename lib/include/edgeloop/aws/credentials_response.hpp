#pragma once

#include <edgeloop/aws/signing_credentials.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace edgeloop::aws {

/// What the AWS IoT credentials provider answered.
struct credentials_response {
    unsigned status = 0;
    /// Empty on success; status_error(status) for a status outside 2xx, error::invalid_credentials for a
    /// 2xx without complete credentials.
    boost::system::error_code error;
    /// The error's name from the x-amzn-ErrorType header (e.g. "ForbiddenException"; AWS may append
    /// ":<url>", which is cut off), empty when absent.
    std::string error_type;
    /// The body's "message" on an error, empty when absent.
    std::string message;
    /// On success: access key id, secret access key, session token and expiration (secrets: never log).
    signing_credentials credentials;

    explicit operator bool() const noexcept { return !error; }
};

/// Interprets a credentials provider response, sans-io. A 2xx body is
/// `{"credentials":{"accessKeyId":"..","secretAccessKey":"..","sessionToken":"..","expiration":"<ISO
/// 8601>"}}` (expiration as "2018-01-18T09:18:06Z"; fractional seconds and a "+00:00" offset are accepted
/// too).
credentials_response parse_credentials_response(unsigned status, std::string_view error_type_header,
                                                std::string_view body);

/// An ISO 8601 / RFC 3339 UTC time ("YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)"); none for anything else.
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text);

} // namespace edgeloop::aws
