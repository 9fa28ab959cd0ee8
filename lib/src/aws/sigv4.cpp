#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/sigv4.hpp>
#include <edgeloop/http/url.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

namespace edgeloop::aws {

namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

std::string to_hex(const unsigned char* data, std::size_t size) {
    constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(2 * size);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0x0f];
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
    return to_hex(digest.data(), size);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, 32> mac{};
    unsigned int size = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return lower(c); });
    return out;
}

bool is_unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/// SigV4's UriEncode: every byte but the unreserved ones as %XY (upper-case hex); '/' kept when asked.
std::string uri_encode(std::string_view s, bool keep_slash) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '%';
            out += digits[b >> 4];
            out += digits[b & 0x0f];
        }
    }
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/// Percent-decoding of a query component; a '%' not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

std::string canonical_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> params;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        const auto name = item.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        params.emplace_back(uri_encode(percent_decode(name), false),
                            uri_encode(percent_decode(value), false));
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty())
            out += '&';
        out.append(name).append("=").append(value);
    }
    return out;
}

/// Trimmed, inner runs of spaces and tabs collapsed to one space.
std::string canonical_value(std::string_view v) {
    std::string out;
    bool space = false;
    for (const char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

bool is_unsigned_header(std::string_view lower_name) noexcept {
    constexpr std::array<std::string_view, 6> skip{
        "connection", "expect", "user-agent", "upgrade", "transfer-encoding", "x-amzn-trace-id"};
    return std::find(skip.begin(), skip.end(), lower_name) != skip.end();
}

std::string header_value(const http::header_list& headers, std::string_view lower_name) {
    for (const auto& [name, value] : headers)
        if (lower(name) == lower_name)
            return value;
    return {};
}

} // namespace

std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date,
                              std::string_view region, std::string_view service) {
    std::string key = "AWS4";
    key += secret_access_key;
    std::string k = hmac_sha256(key, date);
    // The "AWS4"+secret copy is not needed any more: do not leave it in freed memory.
    OPENSSL_cleanse(key.data(), key.size());
    k = hmac_sha256(k, region);
    k = hmac_sha256(k, service);
    return hmac_sha256(k, "aws4_request");
}

sigv4_signature sigv4_sign(std::string_view method, std::string_view target, const http::header_list& headers,
                           std::string_view payload, const signing_credentials& creds,
                           std::string_view region, std::string_view service) {
    sigv4_signature out;
    const auto q = target.find('?');
    const auto path = target.substr(0, q);
    const auto query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

    std::map<std::string, std::string> canonical; // sorted by lower-case name
    for (const auto& [name, value] : headers) {
        auto key = lower(name);
        if (is_unsigned_header(key))
            continue;
        auto& joined = canonical[std::move(key)];
        if (!joined.empty())
            joined += ',';
        joined += canonical_value(value);
    }
    std::string header_lines;
    for (const auto& [name, value] : canonical) {
        header_lines.append(name).append(":").append(value).append("\n");
        if (!out.signed_headers.empty())
            out.signed_headers += ';';
        out.signed_headers += name;
    }

    out.canonical_request.append(method)
        .append("\n")
        .append(uri_encode(path.empty() ? std::string_view("/") : path, true))
        .append("\n")
        .append(canonical_query(query))
        .append("\n")
        .append(header_lines)
        .append("\n")
        .append(out.signed_headers)
        .append("\n")
        .append(sha256_hex(payload));

    const std::string amz_date = header_value(headers, "x-amz-date");
    const std::string date = amz_date.substr(0, 8);
    std::string scope = date;
    scope.append("/").append(region).append("/").append(service).append("/aws4_request");
    out.string_to_sign.append(algorithm)
        .append("\n")
        .append(amz_date)
        .append("\n")
        .append(scope)
        .append("\n")
        .append(sha256_hex(out.canonical_request));

    std::string key = sigv4_signing_key(creds.secret_access_key, date, region, service);
    const std::string mac = hmac_sha256(key, out.string_to_sign);
    OPENSSL_cleanse(key.data(), key.size());
    out.signature = to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
    out.authorization.append(algorithm)
        .append(" Credential=")
        .append(creds.access_key_id)
        .append("/")
        .append(scope)
        .append(", SignedHeaders=")
        .append(out.signed_headers)
        .append(", Signature=")
        .append(out.signature);
    return out;
}

std::string sigv4_amz_date(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    std::array<char, 20> text{};
    const auto n = std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
    return std::string(text.data(), n);
}

boost::system::error_code sign_request(http::request& req, const signing_credentials& creds,
                                       std::string_view region, std::string_view service,
                                       std::chrono::system_clock::time_point now) {
    if (!creds.complete())
        return error::missing_credentials;
    if (!req.body_file.empty() || req.body_source)
        return error::unsignable_body;
    const auto url = http::parse_url(req.url);
    if (!url)
        return error::invalid_endpoint;
    // A request signed before (a retry) is signed afresh.
    std::erase_if(req.headers, [](const auto& h) {
        const auto name = lower(h.first);
        return name == "authorization" || name == "x-amz-date" || name == "x-amz-security-token";
    });
    req.headers.emplace_back("X-Amz-Date", sigv4_amz_date(now));
    if (!creds.session_token.empty())
        req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
    http::header_list to_sign = req.headers;
    if (header_value(to_sign, "host").empty())
        to_sign.emplace_back("host", url->host_header());
    const auto signature = sigv4_sign(req.method, url->target, to_sign, req.body, creds, region, service);
    req.headers.emplace_back("Authorization", signature.authorization);
    return {};
}

std::string region_of_endpoint(std::string_view endpoint) {
    // <prefix>-ats.iot.<region>.amazonaws.com, or .amazonaws.com.cn in China.
    const auto iot = endpoint.find(".iot.");
    if (iot == std::string_view::npos)
        return {};
    auto rest = endpoint.substr(iot + 5);
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0)
        return {};
    const auto suffix = rest.substr(dot);
    if (suffix != ".amazonaws.com" && suffix != ".amazonaws.com.cn")
        return {};
    return std::string(rest.substr(0, dot));
}

std::optional<signing_credentials> credentials_from_environment() {
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0')
        return std::nullopt;
    signing_credentials c;
    c.access_key_id = id;
    c.secret_access_key = secret;
    if (const char* token = std::getenv("AWS_SESSION_TOKEN"))
        c.session_token = token;
    return c;
}

} // namespace edgeloop::aws
