#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace edgeloop::http {

/// An HTTP date (RFC 9110 5.6.7, IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT", whole seconds, in UTC
/// whatever the locale or time zone.
std::string format_http_date(std::chrono::system_clock::time_point t);

/// Reads the three HTTP date forms (IMF-fixdate, RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", asctime
/// "Sun Nov  6 08:49:37 1994"), as a recipient must (RFC 9110 5.6.7), and ISO 8601 "1994-11-06",
/// "1994-11-06T08:49:37Z" (UTC). nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

} // namespace edgeloop::http
