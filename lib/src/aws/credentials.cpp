#include <edgeloop/aws/credentials_cache.hpp>
#include <edgeloop/aws/credentials_request.hpp>
#include <edgeloop/aws/credentials_response.hpp>
#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/shadow_request.hpp>

#include "endpoint.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <ctime>

namespace edgeloop::aws {

namespace {

std::string string_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool digits(std::string_view s, int& out) noexcept {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

boost::system::error_code validate_role_alias(std::string_view alias) noexcept {
    if (alias.empty() || alias.size() > max_role_alias_bytes)
        return error::invalid_role_alias;
    for (const char c : alias) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '=' || c == ',' || c == '@' || c == '-';
        if (!ok)
            return error::invalid_role_alias;
    }
    return {};
}

boost::system::result<http::request> make_credentials_request(const credentials_request& r) {
    if (auto ec = validate_role_alias(r.role_alias))
        return ec;
    if (!r.thing_name.empty())
        if (auto ec = validate_thing_name(r.thing_name))
            return ec;
    auto origin = detail::origin(r.endpoint, r.port);
    if (!origin)
        return origin.error();
    http::request out;
    out.method = "GET";
    // ',' '=' and '@' are allowed in a path segment as they are: no encoding needed.
    out.url = *origin + "/role-aliases/" + r.role_alias + "/credentials";
    if (!r.thing_name.empty())
        out.headers.emplace_back("x-amzn-iot-thingname", r.thing_name);
    return out;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view t) {
    // YYYY-MM-DDTHH:MM:SS then [.fraction] then Z or +00:00
    if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' ||
        t[16] != ':')
        return std::nullopt;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(t.substr(0, 4), year) || !digits(t.substr(5, 2), month) || !digits(t.substr(8, 2), day) ||
        !digits(t.substr(11, 2), hour) || !digits(t.substr(14, 2), minute) ||
        !digits(t.substr(17, 2), second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    auto rest = t.substr(19);
    if (!rest.empty() && rest.front() == '.') {
        std::size_t n = 1;
        while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
            ++n;
        if (n == 1)
            return std::nullopt;
        rest.remove_prefix(n); // sub-second precision does not matter for an expiry
    }
    if (rest != "Z" && rest != "z" && rest != "+00:00")
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t when = ::timegm(&tm);
    if (when == static_cast<std::time_t>(-1))
        return std::nullopt;
    return std::chrono::system_clock::from_time_t(when);
}

credentials_response parse_credentials_response(unsigned status, std::string_view error_type_header,
                                                std::string_view body) {
    credentials_response out;
    out.status = status;
    out.error = status_error(status);
    out.error_type = std::string(error_type_header.substr(0, error_type_header.find(':')));
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(body, ec);
    const auto* obj = ec ? nullptr : doc.if_object();
    if (obj != nullptr)
        out.message = string_field(*obj, "message");
    if (out.error)
        return out;
    out.message.clear();
    const auto* creds_value = obj ? obj->if_contains("credentials") : nullptr;
    const auto* creds = creds_value ? creds_value->if_object() : nullptr;
    if (creds == nullptr) {
        out.error = error::invalid_credentials;
        return out;
    }
    auto& c = out.credentials;
    c.access_key_id = string_field(*creds, "accessKeyId");
    c.secret_access_key = string_field(*creds, "secretAccessKey");
    c.session_token = string_field(*creds, "sessionToken");
    c.expiration = parse_iso8601_utc(string_field(*creds, "expiration"));
    if (!c.complete() || c.session_token.empty() || !c.expiration) {
        out.credentials = {};
        out.error = error::invalid_credentials;
    }
    return out;
}

std::optional<signing_credentials> credentials_cache::fresh(std::chrono::system_clock::time_point now) const {
    if (!creds_)
        return std::nullopt;
    if (creds_->expiration && !(now + margin_ < *creds_->expiration))
        return std::nullopt;
    return creds_;
}

std::optional<std::chrono::system_clock::time_point> credentials_cache::refresh_at() const noexcept {
    if (!creds_ || !creds_->expiration)
        return std::nullopt;
    return *creds_->expiration - margin_;
}

} // namespace edgeloop::aws
