#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace edgeloop::aws {

/// Errors of the aws module (category "edgeloop.aws"): a publish request that cannot be built, and what
/// AWS IoT answered (each status with the name of the exception AWS reports it as, where it has one).
enum class error {
    // request building, found before any connection is made
    invalid_endpoint = 1,
    invalid_port,
    empty_topic,
    topic_too_long,
    wildcard_in_topic,
    invalid_topic,
    invalid_qos,
    // responses
    invalid_request,       ///< 400 InvalidRequestException
    unauthorized,          ///< 401 UnauthorizedException
    forbidden,             ///< 403
    not_found,             ///< 404 ResourceNotFoundException
    method_not_allowed,    ///< 405 MethodNotAllowedException
    conflict,              ///< 409 ConflictException
    payload_too_large,     ///< 413 RequestEntityTooLargeException
    throttled,             ///< 429 ThrottlingException
    internal_failure,      ///< 500 InternalFailureException
    service_unavailable,   ///< 503 ServiceUnavailableException
    server_error,          ///< any other 5xx (e.g. 502, 504 from the front end)
    unexpected_status,     ///< any other status outside 2xx
    invalid_response_json, ///< a 2xx response whose body is not a JSON object
    // publish properties, found before any connection is made
    message_too_large,      ///< payload over max_payload_bytes (128 KB)
    invalid_response_topic, ///< responseTopic: empty, too long, wildcards, not UTF-8 or NUL
    invalid_content_type,   ///< contentType: not UTF-8, a NUL, or longer than max_property_bytes
    invalid_user_property,  ///< a user property's name or value not UTF-8, a NUL, or too long
    payload_not_utf8,       ///< payload_format::utf8_data declared for a payload that is not UTF-8
    // SigV4 signing
    missing_credentials, ///< no access key id or secret access key to sign with
    unsignable_body,     ///< a request body from a file or a callback, which SigV4 cannot hash up front
    // Device Shadow
    invalid_thing_name,            ///< empty, over 128 bytes, or not [a-zA-Z0-9:_-]
    invalid_shadow_name,           ///< over 64 bytes, or not [$a-zA-Z0-9:_-] (empty: the classic shadow)
    invalid_shadow_document,       ///< an update that is not a JSON object with a "state" object
    version_conflict,              ///< 409: the shadow's version is not the one the update named
    unsupported_document_encoding, ///< 415 UnsupportedDocumentEncodingException
    // credentials provider
    invalid_role_alias,  ///< empty, over 128 bytes, or not [a-zA-Z0-9_=,@-]
    invalid_credentials, ///< a 2xx whose body lacks accessKeyId, secretAccessKey, sessionToken or a
                         ///< valid expiration (ISO 8601, UTC)
    credentials_expired  ///< temporary credentials that had expired already when they arrived
};

const boost::system::error_category& aws_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), aws_category()};
}

/// The named error for an HTTP status: empty for 2xx, else one of the response errors above.
boost::system::error_code status_error(unsigned status) noexcept;

/// Whether a failed publish is worth trying again (the predicate for retry::async_retry):
///  - edgeloop.aws: throttled, internal_failure, service_unavailable and server_error (429 and 5xx)
///    yes; every other 4xx, request-building and response errors no;
///  - edgeloop.http: failures of the network and its deadlines (resolve, connect, reset, truncated or
///    missing response, timeouts) yes; invalid URLs, size limits and malformed responses no;
///  - edgeloop.tls: a handshake that failed for no certificate reason yes; configuration and
///    certificate errors no (they fail the same way every time);
///  - operation_aborted never; other system errors (the socket's errno) yes.
/// QoS 1 is at-least-once: a retried publish may be delivered twice, which that QoS allows.
bool is_retryable(const boost::system::error_code& ec) noexcept;

} // namespace edgeloop::aws

template <>
struct boost::system::is_error_code_enum<edgeloop::aws::error> : std::true_type {};
