#pragma once

#include <string>

namespace edgeloop::aws {

/// One MQTT 5 user property of a publish: a name/value pair of UTF-8 strings, delivered to MQTT 5
/// subscribers with the message. Names may repeat (MQTT 5 keeps every pair, in order).
struct user_property {
    std::string name;
    std::string value;

    friend bool operator==(const user_property&, const user_property&) = default;
};

} // namespace edgeloop::aws
