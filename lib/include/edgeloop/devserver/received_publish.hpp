#pragma once

#include <edgeloop/aws/user_property.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeloop::devserver {

/// A publish (POST /topics/<topic>) the devserver accepted, decoded as AWS IoT would: the query
/// parameters and x-amz-mqtt5-* headers turned back into MQTT 5 properties.
struct received_publish {
    std::string topic; ///< percent-decoded
    int qos = 0;       ///< AWS's default when the query has none
    bool retain = false;
    std::string payload;
    std::string content_type;   ///< contentType
    std::string response_topic; ///< responseTopic
    std::optional<std::uint32_t> message_expiry;
    std::vector<aws::user_property> user_properties;
    std::string payload_format;   ///< "UNSPECIFIED_BYTES", "UTF8_DATA" or empty
    std::string correlation_data; ///< decoded from base64
    /// Common Name of the client certificate of the connection it came on (verified in the handshake,
    /// or from the resumed TLS session); empty without one.
    std::string client_cn;
};

} // namespace edgeloop::devserver
