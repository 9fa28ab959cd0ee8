#include <edgeloop/aws/error.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/tls/error.hpp>

#include <boost/asio/error.hpp>

namespace edgeloop::aws {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.aws"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::invalid_endpoint:
            return "invalid AWS IoT endpoint (a DNS name or an IP address)";
        case error::invalid_port:
            return "invalid port";
        case error::empty_topic:
            return "empty topic";
        case error::topic_too_long:
            return "topic longer than 256 bytes";
        case error::wildcard_in_topic:
            return "wildcards '+' and '#' are not allowed in a publish topic";
        case error::invalid_topic:
            return "topic is not valid UTF-8 or contains a NUL character";
        case error::invalid_qos:
            return "QoS must be 0 or 1";
        case error::invalid_request:
            return "AWS IoT: invalid request (400)";
        case error::unauthorized:
            return "AWS IoT: unauthorized (401)";
        case error::forbidden:
            return "AWS IoT: forbidden (403)";
        case error::not_found:
            return "AWS IoT: not found (404)";
        case error::method_not_allowed:
            return "AWS IoT: method not allowed (405)";
        case error::conflict:
            return "AWS IoT: conflict (409)";
        case error::payload_too_large:
            return "AWS IoT: payload too large (413)";
        case error::throttled:
            return "AWS IoT: request throttled (429)";
        case error::internal_failure:
            return "AWS IoT: internal failure (500)";
        case error::service_unavailable:
            return "AWS IoT: service unavailable (503)";
        case error::server_error:
            return "AWS IoT: server error (5xx)";
        case error::unexpected_status:
            return "AWS IoT: unexpected HTTP status";
        case error::invalid_response_json:
            return "AWS IoT: response body is not a JSON object";
        case error::message_too_large:
            return "message payload larger than AWS IoT's 128 KB limit";
        case error::invalid_response_topic:
            return "invalid response topic (empty, over 256 bytes, a wildcard, not UTF-8 or a NUL)";
        case error::invalid_content_type:
            return "invalid content type (not UTF-8, a NUL or over 1024 bytes)";
        case error::invalid_user_property:
            return "invalid user property (name or value not UTF-8, a NUL or over 1024 bytes)";
        case error::payload_not_utf8:
            return "payload declared UTF-8 data is not valid UTF-8";
        case error::missing_credentials:
            return "no AWS access key id and secret access key to sign the request with (SigV4)";
        case error::unsignable_body:
            return "SigV4 signs in-memory request bodies only";
        case error::invalid_thing_name:
            return "invalid thing name (1 to 128 of a-z A-Z 0-9 : _ -)";
        case error::invalid_shadow_name:
            return "invalid shadow name (up to 64 of a-z A-Z 0-9 $ : _ -)";
        case error::invalid_shadow_document:
            return "a shadow update must be a JSON object with a \"state\" object";
        case error::version_conflict:
            return "AWS IoT: shadow version conflict (409): the shadow changed since that version";
        case error::unsupported_document_encoding:
            return "AWS IoT: unsupported document encoding (415)";
        case error::invalid_role_alias:
            return "invalid role alias (1 to 128 of a-z A-Z 0-9 _ = , @ -)";
        case error::invalid_credentials:
            return "credentials provider: the response lacks accessKeyId, secretAccessKey, sessionToken or "
                   "a valid expiration";
        case error::credentials_expired:
            return "credentials provider: the credentials had expired when they arrived (is the clock set?)";
        }
        return "unknown edgeloop.aws error";
    }
};

} // namespace

const boost::system::error_category& aws_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code status_error(unsigned status) noexcept {
    if (status >= 200 && status <= 299)
        return {};
    switch (status) {
    case 400:
        return error::invalid_request;
    case 401:
        return error::unauthorized;
    case 403:
        return error::forbidden;
    case 404:
        return error::not_found;
    case 405:
        return error::method_not_allowed;
    case 409:
        return error::conflict;
    case 413:
        return error::payload_too_large;
    case 415:
        return error::unsupported_document_encoding;
    case 429:
        return error::throttled;
    case 500:
        return error::internal_failure;
    case 503:
        return error::service_unavailable;
    default:
        return status >= 500 && status <= 599 ? error::server_error : error::unexpected_status;
    }
}

bool is_retryable(const boost::system::error_code& ec) noexcept {
    if (!ec || ec == boost::asio::error::operation_aborted)
        return false;
    if (ec.category() == aws_category()) {
        switch (static_cast<error>(ec.value())) {
        case error::throttled:
        case error::internal_failure:
        case error::service_unavailable:
        case error::server_error:
            return true;
        default:
            return false;
        }
    }
    if (ec.category() == http::http_category())
        return http::is_transient(static_cast<http::error>(ec.value()));
    if (ec.category() == tls::tls_category())
        return ec == tls::error::handshake_failed;
    return ec.category() == boost::system::system_category() ||
           ec.category() == boost::system::generic_category();
}

} // namespace edgeloop::aws
