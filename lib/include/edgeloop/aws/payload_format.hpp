#pragma once

#include <string_view>

namespace edgeloop::aws {

/// The MQTT 5 payload format indicator of a publish, sent as the x-amz-mqtt5-payload-format-indicator
/// header. `unset` sends no header (AWS then forwards none).
enum class payload_format {
    unset,
    unspecified_bytes, ///< "UNSPECIFIED_BYTES"
    utf8_data          ///< "UTF8_DATA": the payload must be valid UTF-8 (checked before sending)
};

/// The header value AWS expects ("UNSPECIFIED_BYTES", "UTF8_DATA"); empty for unset.
constexpr std::string_view to_string(payload_format f) noexcept {
    switch (f) {
    case payload_format::unspecified_bytes:
        return "UNSPECIFIED_BYTES";
    case payload_format::utf8_data:
        return "UTF8_DATA";
    case payload_format::unset:
        break;
    }
    return {};
}

} // namespace edgeloop::aws
