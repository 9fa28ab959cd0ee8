#pragma once

// The line protocol between the apps' --demo (demo_server_process, the parent) and edgeloop-demo-server
// (apps/demo_server, the child): one JSON object per line, each way, on the child's stdin and stdout.
//
// child -> parent:
//   {"event":"ready","port":P,"url":"https://127.0.0.1:P","caFile":"/tmp/edgeloop-devserver-.../ca.crt"}
//                                  once, first, when the server listens
//   {"event":"clientCertificate","certificatePem":"...","keyPem":"..."}
//                                  the answer to issueClientCertificate (in memory only, never on disk)
//   {"event":"publish", ...}       each publish the server accepted, written before it is answered
//                                  (publish_to_json: payload and correlation data in base64)
//   {"event":"error","message":"..."}  a request line it could not understand
// parent -> child:
//   {"secretAccessKey":"...","sessionToken":"..."}  first, only with --sigv4-access-key-id: the secret
//                                  half of the SigV4 keys, kept off the command line (which ps shows)
//   {"op":"issueClientCertificate"}
// The child ends when its stdin ends (the parent stopped it, or died).

#include <edgeloop/aws/publish.hpp>
#include <edgeloop/devserver/received_publish.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace app_common::demo_protocol {

/// One line of the protocol as an object, or none when it is not a JSON object. Strings may hold any
/// bytes (a topic is not checked for UTF-8 by the server either).
inline std::optional<boost::json::object> parse_line(std::string_view line) {
    boost::json::parse_options o;
    o.allow_invalid_utf8 = true;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec, {}, o);
    if (ec || !v.is_object())
        return std::nullopt;
    return std::move(v.as_object());
}

/// The serialized object and its newline.
inline std::string to_line(const boost::json::object& o) {
    return boost::json::serialize(o) + '\n';
}

/// A string member, empty when missing or not a string.
inline std::string string_of(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline boost::json::object publish_to_json(const edgeloop::devserver::received_publish& p) {
    boost::json::object o{{"event", "publish"},
                          {"topic", p.topic},
                          {"qos", p.qos},
                          {"retain", p.retain},
                          {"payload", edgeloop::aws::base64_encode(p.payload)},
                          {"contentType", p.content_type},
                          {"responseTopic", p.response_topic},
                          {"payloadFormat", p.payload_format},
                          {"correlationData", edgeloop::aws::base64_encode(p.correlation_data)},
                          {"clientCn", p.client_cn}};
    if (p.message_expiry)
        o["messageExpiry"] = *p.message_expiry;
    boost::json::array props;
    for (const auto& up : p.user_properties)
        props.push_back(boost::json::object{{"name", up.name}, {"value", up.value}});
    o["userProperties"] = std::move(props);
    return o;
}

/// The publish of an {"event":"publish"} line; none when a member is malformed.
inline std::optional<edgeloop::devserver::received_publish> publish_from_json(const boost::json::object& o) {
    edgeloop::devserver::received_publish p;
    p.topic = string_of(o, "topic");
    const auto* qos = o.if_contains("qos");
    const auto* retain = o.if_contains("retain");
    if (!qos || !qos->is_int64() || !retain || !retain->is_bool())
        return std::nullopt;
    p.qos = static_cast<int>(qos->as_int64());
    p.retain = retain->as_bool();
    auto payload = edgeloop::aws::base64_decode(string_of(o, "payload"));
    auto correlation = edgeloop::aws::base64_decode(string_of(o, "correlationData"));
    if (!payload || !correlation)
        return std::nullopt;
    p.payload = std::move(*payload);
    p.correlation_data = std::move(*correlation);
    p.content_type = string_of(o, "contentType");
    p.response_topic = string_of(o, "responseTopic");
    p.payload_format = string_of(o, "payloadFormat");
    p.client_cn = string_of(o, "clientCn");
    if (const auto* e = o.if_contains("messageExpiry")) {
        if (!e->is_int64() && !e->is_uint64())
            return std::nullopt;
        p.message_expiry = static_cast<std::uint32_t>(e->to_number<std::uint64_t>());
    }
    if (const auto* props = o.if_contains("userProperties"); props && props->is_array())
        for (const auto& up : props->as_array()) {
            if (!up.is_object())
                return std::nullopt;
            p.user_properties.push_back(
                {string_of(up.as_object(), "name"), string_of(up.as_object(), "value")});
        }
    return p;
}

} // namespace app_common::demo_protocol
