#pragma once

#include <edgeloop/http/request.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgeloop::aws {

/// Port of the AWS IoT HTTPS endpoint without ALPN; 443 needs ALPN (see alpn_for_port).
inline constexpr std::uint16_t default_port = 8443;
/// AWS IoT's limit on the UTF-8 bytes of a topic name.
inline constexpr std::size_t max_topic_bytes = 256;

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
    /// Message body, sent as is.
    std::string payload;
    /// AWS ignores it; subscribers of MQTT 5 see it as the message's content type.
    std::string content_type = "application/json";
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

/// Builds `POST https://<endpoint>:<port>/topics/<encode_topic(topic)>?qos=<0|1>[&retain=true]` with
/// `Content-Type` and `Connection: keep-alive` headers and the payload as body. Errors: those of
/// validate_topic, error::invalid_qos, error::invalid_endpoint (empty, or neither a DNS name nor an IP
/// literal), error::invalid_port (0).
boost::system::result<http::request> make_publish_request(const publish_request& req);

} // namespace edgeloop::aws
