#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/publish.hpp>

#include <boost/url/encode.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

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

} // namespace

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

    std::string host;
    if (urls::parse_ipv6_address(req.endpoint))
        host = "[" + req.endpoint + "]";
    else if (urls::parse_ipv4_address(req.endpoint) || is_dns_name(req.endpoint))
        host = req.endpoint;
    else
        return make_error_code(error::invalid_endpoint);

    http::request out;
    out.method = "POST";
    out.url = "https://" + host + ":" + std::to_string(req.port) + "/topics/" + encode_topic(req.topic) +
              "?qos=" + std::to_string(req.qos);
    if (req.retain)
        out.url += "&retain=true";
    if (!req.content_type.empty())
        out.headers.emplace_back("Content-Type", req.content_type);
    // Asks AWS to keep the connection for the next publish (AWS may still close it).
    out.headers.emplace_back("Connection", "keep-alive");
    out.body = req.payload;
    return out;
}

} // namespace edgeloop::aws
