#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace edgeloop::aws {

/// What AWS IoT answered to a publish.
struct publish_response {
    unsigned status = 0;
    /// The body's "message": "OK" on success, AWS's reason otherwise; empty when absent.
    std::string message;
    /// The body's "traceId", which AWS support asks for; empty when absent.
    std::string trace_id;
    /// Empty for a 2xx with a JSON body; status_error(status) otherwise, or error::invalid_response_json
    /// for a 2xx whose body is not a JSON object.
    boost::system::error_code error;

    explicit operator bool() const noexcept { return !error; }
};

/// Interprets a response, sans-io. The body is parsed with Boost.JSON; missing or non-string fields are
/// left empty, unknown fields ignored, and an empty body counts as `{}`. An error status with a body that
/// is not JSON (a proxy's HTML page) keeps its status error.
publish_response parse_response(unsigned status, std::string_view body);

} // namespace edgeloop::aws
