#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/response.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace edgeloop::aws {

namespace {

std::string string_field(const boost::json::object& obj, std::string_view key) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr || !v->is_string())
        return {};
    return std::string(v->get_string());
}

} // namespace

publish_response parse_response(unsigned status, std::string_view body) {
    publish_response out;
    out.status = status;
    out.error = status_error(status);

    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return out;
    boost::system::error_code json_ec;
    const boost::json::value doc = boost::json::parse(body, json_ec);
    const auto* obj = json_ec ? nullptr : doc.if_object();
    if (obj == nullptr) {
        // The status says more about an error response than its unreadable body does.
        if (!out.error)
            out.error = error::invalid_response_json;
        return out;
    }
    out.message = string_field(*obj, "message");
    out.trace_id = string_field(*obj, "traceId");
    return out;
}

} // namespace edgeloop::aws
