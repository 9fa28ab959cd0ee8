#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::aws {

/// A Device Shadow response (get, update, delete), parsed with Boost.JSON. Absent parts are null.
struct shadow_document {
    unsigned status = 0;
    boost::json::value desired;  ///< state.desired
    boost::json::value reported; ///< state.reported
    boost::json::value delta;    ///< state.delta: desired values that reported does not match
    boost::json::value metadata; ///< per-field timestamps, as AWS sends them
    std::optional<std::uint64_t> version;
    std::optional<std::int64_t> timestamp;
    std::string client_token;
    /// The error body's "message" ("Version conflict", "No shadow exists with name: ...").
    std::string message;
    /// Empty for 2xx with a JSON object; error::version_conflict for 409, status_error() for other
    /// statuses, error::invalid_response_json for a 2xx that is not a JSON object.
    boost::system::error_code error;

    explicit operator bool() const noexcept { return !error; }
};

/// Parses a get/update/delete answer, sans-io.
shadow_document parse_shadow_response(unsigned status, std::string_view body);

/// One page of ListNamedShadowsForThing.
struct named_shadow_list {
    std::vector<std::string> names; ///< "results"
    std::string next_token;         ///< "nextToken": empty on the last page
    std::string message;
    boost::system::error_code error;
};

named_shadow_list parse_named_shadow_list(unsigned status, std::string_view body);

} // namespace edgeloop::aws
