#pragma once

#include <edgeloop/aws/payload_format.hpp>
#include <edgeloop/aws/user_property.hpp>
#include <edgeloop/http/request.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::aws {

/// Port of the AWS IoT HTTPS endpoint without ALPN; 443 needs ALPN (see alpn_for_port).
inline constexpr std::uint16_t default_port = 8443;
/// AWS IoT's limit on the UTF-8 bytes of a topic name.
inline constexpr std::size_t max_topic_bytes = 256;
/// AWS IoT's limit on a message payload (128 KB): a larger publish is refused before it is sent.
inline constexpr std::size_t max_payload_bytes = 128 * 1024;
/// Bound on a content type and on each user property's name and value, in bytes: the length AWS
/// documents for MQTT 5 headers (API_MqttHeaders, API_UserProperty).
inline constexpr std::size_t max_property_bytes = 1024;

/// One message to publish over the AWS IoT HTTPS API.
struct publish_request {
    /// The account's data endpoint, e.g. "a1b2c3-ats.iot.eu-west-1.amazonaws.com" (or an IP literal for
    /// a test server).
    std::string endpoint;
    std::uint16_t port = default_port;
    /// Topic name (UTF-8, '/' separating levels, no '+' or '#' wildcards).
    std::string topic;
    /// 0 (at most once) or 1 (at least once).
    int qos = 1;
    /// Ask the broker to keep the message as the topic's retained message.
    bool retain = false;
    /// Message body, sent as is, at most max_payload_bytes. Empty with `retain` set: clears the topic's
    /// retained message.
    std::string payload;
    /// The HTTP Content-Type header of the request (AWS ignores it); empty: no header.
    std::string content_type = "application/json";

    // MQTT 5 properties, delivered with the message to MQTT 5 subscribers (AWS's Publish API). Each one
    // left empty is not sent.

    /// `contentType` query parameter: what the payload is, for the subscriber (UTF-8, at most
    /// max_property_bytes).
    std::string mqtt_content_type;
    /// `responseTopic` query parameter: where a request-response subscriber should answer (a topic name:
    /// no wildcards, UTF-8, at most max_topic_bytes).
    std::string response_topic;
    /// `messageExpiry` query parameter: seconds after which the broker drops the message if it is not yet
    /// delivered. Absent: it never expires.
    std::optional<std::uint32_t> message_expiry;
    /// `x-amz-mqtt5-user-properties` header: base64 of the JSON array `[{"<name>":"<value>"}, ...]`, one
    /// object per pair, in order (the format of AWS's API reference).
    std::vector<user_property> user_properties;
    /// `x-amz-mqtt5-payload-format-indicator` header.
    payload_format format = payload_format::unset;
    /// `x-amz-mqtt5-correlation-data` header: these bytes (any), base64-encoded by make_publish_request.
    std::string correlation_data;
};

/// Checks a topic name for publishing: error::empty_topic, error::topic_too_long (over
/// max_topic_bytes), error::wildcard_in_topic ('+' or '#'), error::invalid_topic (not UTF-8, or a NUL,
/// which MQTT forbids).
boost::system::error_code validate_topic(std::string_view topic) noexcept;

/// Percent-encodes a topic as one path segment: every byte outside RFC 3986 "unreserved" is encoded,
/// '/' included ("a/b c" -> "a%2Fb%20c"). The AWS IoT data-plane API declares the topic a single URI
/// label and the AWS SDKs send its slashes as %2F; AWS decodes them back into level separators. Keeping
/// '/' literal would also reach AWS, but would make the topic several path segments to every proxy and
/// router on the way.
std::string encode_topic(std::string_view topic);

/// Builds `POST https://<endpoint>:<port>/topics/<encode_topic(topic)>?qos=<0|1>[&retain=true]
/// [&contentType=..][&responseTopic=..][&messageExpiry=..]` (values percent-encoded) with `Content-Type`,
/// `Connection: keep-alive` and the x-amz-mqtt5-* headers of the properties set, and the payload as body.
/// Errors, all found before any connection: those of validate_topic, error::invalid_qos,
/// error::invalid_endpoint (empty, or neither a DNS name nor an IP literal), error::invalid_port (0),
/// error::message_too_large, error::invalid_response_topic, error::invalid_content_type,
/// error::invalid_user_property, error::payload_not_utf8.
boost::system::result<http::request> make_publish_request(const publish_request& req);

/// The value of the x-amz-mqtt5-user-properties header for these pairs: base64 of
/// `[{"name":"value"},...]` (JSON serialized by Boost.JSON). Empty for no pairs.
std::string encode_user_properties(const std::vector<user_property>& properties);

/// The inverse of encode_user_properties (for servers and tests): empty on anything that is not base64
/// of a JSON array of one-member objects with string values.
std::optional<std::vector<user_property>> decode_user_properties(std::string_view header);

/// Standard base64 (RFC 4648 section 4, padded), as AWS expects in the x-amz-mqtt5-* headers.
std::string base64_encode(std::string_view bytes);
/// Decodes standard padded base64; empty optional on any other character, bad padding or length.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace edgeloop::aws
