#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/publish.hpp>

#include "endpoint.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <openssl/evp.h>

namespace edgeloop::aws {

namespace urls = boost::urls;

namespace {

/// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as MQTT requires of topics.
bool is_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size())
            return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/// A DNS name in letters, digits and hyphens (RFC 1123), labels of 1 to 63 characters.
bool is_dns_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > 253)
        return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && label > 0))
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && s.back() != '-';
}

/// An MQTT 5 UTF-8 string property: valid UTF-8, no NUL, at most max_property_bytes.
bool is_property_string(std::string_view s) noexcept {
    return s.size() <= max_property_bytes && s.find('\0') == std::string_view::npos && is_utf8(s);
}

void add_query(std::string& url, std::string_view name, std::string_view value) {
    url += '&';
    url += name;
    url += '=';
    url += urls::encode(value, urls::unreserved_chars);
}

} // namespace

boost::system::result<std::string> detail::origin(std::string_view endpoint, std::uint16_t port) {
    if (port == 0)
        return make_error_code(error::invalid_port);
    std::string host;
    if (urls::parse_ipv6_address(endpoint))
        host.append("[").append(endpoint).append("]"); // not "[" + std::string(...): GCC 12's -Wrestrict
                                                       // false positive at -O3 (GCC bug 105651)
    else if (urls::parse_ipv4_address(endpoint) || is_dns_name(endpoint))
        host = endpoint;
    else
        return make_error_code(error::invalid_endpoint);
    return "https://" + host + ":" + std::to_string(port);
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    // EVP_EncodeBlock takes an int length: payloads are far below that (max_payload_bytes).
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0 || text.size() > (1u << 30))
        return std::nullopt;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                              c == '+' || c == '/';
        // '=' only as the last one or two characters.
        if (!alphabet && !(c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text.back() == '=')))
            return std::nullopt;
    }
    std::string out(3 * (text.size() / 4), '\0');
    // EVP_DecodeBlock ignores padding and returns whole groups of three bytes: trim what '=' stood for.
    const int n =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0)
        return std::nullopt;
    std::size_t size = static_cast<std::size_t>(n);
    if (!text.empty() && text.back() == '=')
        size -= (text[text.size() - 2] == '=') ? 2 : 1;
    out.resize(size);
    return out;
}

std::string encode_user_properties(const std::vector<user_property>& properties) {
    if (properties.empty())
        return {};
    boost::json::array pairs;
    pairs.reserve(properties.size());
    for (const auto& p : properties) {
        boost::json::object one;
        one[p.name] = p.value;
        pairs.emplace_back(std::move(one));
    }
    return base64_encode(boost::json::serialize(pairs));
}

std::optional<std::vector<user_property>> decode_user_properties(std::string_view header) {
    const auto json = base64_decode(header);
    if (!json)
        return std::nullopt;
    boost::system::error_code ec;
    const auto doc = boost::json::parse(*json, ec);
    if (ec || !doc.is_array())
        return std::nullopt;
    std::vector<user_property> out;
    for (const auto& item : doc.get_array()) {
        const auto* obj = item.if_object();
        if (obj == nullptr || obj->size() != 1 || !obj->begin()->value().is_string())
            return std::nullopt;
        out.push_back({std::string(obj->begin()->key()), std::string(obj->begin()->value().get_string())});
    }
    return out;
}

boost::system::error_code validate_topic(std::string_view topic) noexcept {
    if (topic.empty())
        return error::empty_topic;
    if (topic.size() > max_topic_bytes)
        return error::topic_too_long;
    if (topic.find_first_of("+#") != std::string_view::npos)
        return error::wildcard_in_topic;
    if (topic.find('\0') != std::string_view::npos || !is_utf8(topic))
        return error::invalid_topic;
    return {};
}

std::string encode_topic(std::string_view topic) {
    return urls::encode(topic, urls::unreserved_chars);
}

boost::system::result<http::request> make_publish_request(const publish_request& req) {
    if (auto ec = validate_topic(req.topic))
        return ec;
    if (req.qos != 0 && req.qos != 1)
        return make_error_code(error::invalid_qos);
    if (req.port == 0)
        return make_error_code(error::invalid_port);
    if (req.payload.size() > max_payload_bytes)
        return make_error_code(error::message_too_large);
    if (!req.response_topic.empty() && validate_topic(req.response_topic))
        return make_error_code(error::invalid_response_topic);
    if (!is_property_string(req.mqtt_content_type))
        return make_error_code(error::invalid_content_type);
    for (const auto& p : req.user_properties)
        if (!is_property_string(p.name) || !is_property_string(p.value))
            return make_error_code(error::invalid_user_property);
    if (req.format == payload_format::utf8_data && !is_utf8(req.payload))
        return make_error_code(error::payload_not_utf8);

    const auto origin = detail::origin(req.endpoint, req.port);
    if (!origin)
        return origin.error();

    http::request out;
    out.method = "POST";
    out.url = *origin + "/topics/" + encode_topic(req.topic) + "?qos=" + std::to_string(req.qos);
    if (req.retain)
        out.url += "&retain=true";
    if (!req.mqtt_content_type.empty())
        add_query(out.url, "contentType", req.mqtt_content_type);
    if (!req.response_topic.empty())
        add_query(out.url, "responseTopic", req.response_topic);
    if (req.message_expiry)
        add_query(out.url, "messageExpiry", std::to_string(*req.message_expiry));
    if (!req.content_type.empty())
        out.headers.emplace_back("Content-Type", req.content_type);
    // Asks AWS to keep the connection for the next publish (AWS may still close it).
    out.headers.emplace_back("Connection", "keep-alive");
    if (!req.user_properties.empty())
        out.headers.emplace_back("x-amz-mqtt5-user-properties", encode_user_properties(req.user_properties));
    if (req.format != payload_format::unset)
        out.headers.emplace_back("x-amz-mqtt5-payload-format-indicator", std::string(to_string(req.format)));
    if (!req.correlation_data.empty())
        out.headers.emplace_back("x-amz-mqtt5-correlation-data", base64_encode(req.correlation_data));
    out.body = req.payload;
    return out;
}

} // namespace edgeloop::aws
