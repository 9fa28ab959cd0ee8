#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/shadow_document.hpp>
#include <edgeloop/aws/shadow_request.hpp>

#include "endpoint.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace edgeloop::aws {

namespace {

bool name_chars(std::string_view s, bool dollar) noexcept {
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == ':' || c == '_' || c == '-' || (dollar && c == '$');
        if (!ok)
            return false;
    }
    return true;
}

/// "https://host:port/things/<thing>/shadow[?name=<name>]" (names need no encoding: their characters
/// are all allowed in a path and a query).
boost::system::result<std::string> shadow_url(const shadow_request& r) {
    if (auto ec = validate_thing_name(r.thing))
        return ec;
    if (auto ec = validate_shadow_name(r.name))
        return ec;
    auto origin = detail::origin(r.endpoint, r.port);
    if (!origin)
        return origin.error();
    std::string url = *origin + "/things/" + r.thing + "/shadow";
    if (!r.name.empty()) {
        // '$' is a sub-delimiter: allowed in a query, but encoded as AWS's SDKs do.
        url += "?name=";
        for (const char c : r.name)
            url += c == '$' ? std::string("%24") : std::string(1, c);
    }
    return url;
}

http::request make(std::string method, std::string url) {
    http::request out;
    out.method = std::move(method);
    out.url = std::move(url);
    out.headers.emplace_back("Connection", "keep-alive");
    return out;
}

std::string string_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const boost::json::object* parse_object(std::string_view body, boost::json::value& holder) {
    boost::system::error_code ec;
    holder = boost::json::parse(body, ec);
    return ec ? nullptr : holder.if_object();
}

boost::system::error_code shadow_status_error(unsigned status) {
    if (status == 409)
        return error::version_conflict;
    return status_error(status);
}

/// What both response parsers begin with: the status's error, the body as a JSON object (held by
/// `holder`) and its "message". Null when the body is not a JSON object, which for a 2xx is
/// error::invalid_response_json (an error status keeps its own error).
template <class Out>
const boost::json::object* parse_preamble(Out& out, unsigned status, std::string_view body,
                                          boost::json::value& holder) {
    out.error = shadow_status_error(status);
    const auto* obj = parse_object(body, holder);
    if (obj == nullptr) {
        if (!out.error)
            out.error = error::invalid_response_json;
        return nullptr;
    }
    out.message = string_field(*obj, "message");
    return obj;
}

} // namespace

boost::system::error_code validate_thing_name(std::string_view thing) noexcept {
    if (thing.empty() || thing.size() > max_thing_name_bytes || !name_chars(thing, false))
        return error::invalid_thing_name;
    return {};
}

boost::system::error_code validate_shadow_name(std::string_view name) noexcept {
    if (name.size() > max_shadow_name_bytes || !name_chars(name, true))
        return error::invalid_shadow_name;
    return {};
}

boost::system::result<http::request> make_shadow_get_request(const shadow_request& r) {
    auto url = shadow_url(r);
    if (!url)
        return url.error();
    return make("GET", std::move(*url));
}

boost::system::result<http::request> make_shadow_delete_request(const shadow_request& r) {
    auto url = shadow_url(r);
    if (!url)
        return url.error();
    return make("DELETE", std::move(*url));
}

boost::system::result<http::request> make_shadow_update_request(const shadow_request& r,
                                                                std::string_view document,
                                                                std::optional<std::uint64_t> version) {
    auto url = shadow_url(r);
    if (!url)
        return url.error();
    boost::json::value doc;
    auto* obj = parse_object(document, doc) ? doc.if_object() : nullptr;
    if (obj == nullptr || !obj->contains("state") || !obj->at("state").is_object())
        return make_error_code(error::invalid_shadow_document);
    http::request out = make("POST", std::move(*url));
    out.headers.emplace_back("Content-Type", "application/json");
    if (version) {
        (*obj)["version"] = *version;
        out.body = boost::json::serialize(doc);
    } else {
        out.body = document; // as the caller wrote it
    }
    return out;
}

boost::system::result<http::request> make_list_named_shadows_request(const shadow_request& r,
                                                                     std::string_view next_token,
                                                                     std::optional<unsigned> page_size) {
    if (auto ec = validate_thing_name(r.thing))
        return ec;
    auto origin = detail::origin(r.endpoint, r.port);
    if (!origin)
        return origin.error();
    std::string url = *origin + "/api/things/shadow/ListNamedShadowsForThing/" + r.thing;
    char sep = '?';
    if (!next_token.empty()) {
        url += sep;
        url += "nextToken=";
        // The token is opaque; percent-encode every byte outside the unreserved set.
        constexpr std::string_view digits = "0123456789ABCDEF";
        for (const char c : next_token) {
            const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
            if (unreserved) {
                url += c;
            } else {
                url += '%';
                url += digits[static_cast<unsigned char>(c) >> 4];
                url += digits[static_cast<unsigned char>(c) & 0x0f];
            }
        }
        sep = '&';
    }
    if (page_size) {
        url += sep;
        url += "pageSize=" + std::to_string(*page_size);
    }
    return make("GET", std::move(url));
}

shadow_document parse_shadow_response(unsigned status, std::string_view body) {
    shadow_document out;
    out.status = status;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        out.error = shadow_status_error(status);
        return out;
    }
    boost::json::value doc;
    const auto* obj = parse_preamble(out, status, body, doc);
    if (obj == nullptr)
        return out;
    out.client_token = string_field(*obj, "clientToken");
    if (const auto* state = obj->if_contains("state"); state && state->is_object()) {
        const auto& s = state->get_object();
        if (const auto* v = s.if_contains("desired"))
            out.desired = *v;
        if (const auto* v = s.if_contains("reported"))
            out.reported = *v;
        if (const auto* v = s.if_contains("delta"))
            out.delta = *v;
    }
    if (const auto* v = obj->if_contains("metadata"))
        out.metadata = *v;
    if (const auto* v = obj->if_contains("version"); v && v->is_uint64())
        out.version = v->get_uint64();
    else if (v && v->is_int64() && v->get_int64() >= 0)
        out.version = static_cast<std::uint64_t>(v->get_int64());
    if (const auto* v = obj->if_contains("timestamp"); v && v->is_int64())
        out.timestamp = v->get_int64();
    return out;
}

named_shadow_list parse_named_shadow_list(unsigned status, std::string_view body) {
    named_shadow_list out;
    boost::json::value doc;
    const auto* obj = parse_preamble(out, status, body, doc);
    if (obj == nullptr)
        return out;
    out.next_token = string_field(*obj, "nextToken");
    if (const auto* results = obj->if_contains("results"); results && results->is_array())
        for (const auto& n : results->get_array())
            if (n.is_string())
                out.names.emplace_back(n.get_string());
    return out;
}

} // namespace edgeloop::aws
