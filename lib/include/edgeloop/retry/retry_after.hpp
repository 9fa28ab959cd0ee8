#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace edgeloop::retry {

/// Parses the value of a Retry-After header (RFC 9110 10.2.3): delta-seconds ("120") or an HTTP-date
/// in IMF-fixdate form ("Fri, 31 Dec 1999 23:59:59 GMT"), surrounding whitespace allowed. A date is
/// turned into the time left from `now` (zero when it has passed). delta-seconds too large to represent
/// are taken as 2^31 s, as RFC 9111 1.2.2 asks. Returns nullopt for anything else, including the
/// obsolete RFC 850 and asctime date forms, which no current server sends.
std::optional<std::chrono::seconds>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

} // namespace edgeloop::retry
