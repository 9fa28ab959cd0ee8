#pragma once

#include <edgeloop/aws/publish.hpp>
#include <edgeloop/http/request.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgeloop::aws {

inline constexpr std::size_t max_thing_name_bytes = 128;
inline constexpr std::size_t max_shadow_name_bytes = 64;

/// Which Device Shadow, on which endpoint: the thing's classic shadow (empty `name`) or a named one.
struct shadow_request {
    std::string endpoint;
    std::uint16_t port = default_port;
    std::string thing;
    std::string name;
};

/// error::invalid_thing_name unless 1 to 128 of [a-zA-Z0-9:_-].
boost::system::error_code validate_thing_name(std::string_view thing) noexcept;
/// error::invalid_shadow_name unless up to 64 of [$a-zA-Z0-9:_-] (empty: the classic shadow).
boost::system::error_code validate_shadow_name(std::string_view name) noexcept;

/// `GET https://<endpoint>:<port>/things/<thing>/shadow[?name=<name>]`.
boost::system::result<http::request> make_shadow_get_request(const shadow_request& r);
/// `POST .../things/<thing>/shadow[?name=]` with the update document (a JSON object with a "state"
/// object, at most 8 KB of state is AWS's business). With `version`, the document's "version" is set to
/// it: AWS then applies the update only if the shadow is still at that version, and answers 409
/// (error::version_conflict) otherwise. Errors: those of the names and the endpoint,
/// error::invalid_shadow_document.
boost::system::result<http::request> make_shadow_update_request(const shadow_request& r,
                                                                std::string_view document,
                                                                std::optional<std::uint64_t> version = {});
/// `DELETE .../things/<thing>/shadow[?name=]`.
boost::system::result<http::request> make_shadow_delete_request(const shadow_request& r);
/// `GET .../api/things/shadow/ListNamedShadowsForThing/<thing>[?nextToken=..][&pageSize=..]` (r.name
/// unused).
boost::system::result<http::request> make_list_named_shadows_request(const shadow_request& r,
                                                                     std::string_view next_token = {},
                                                                     std::optional<unsigned> page_size = {});

} // namespace edgeloop::aws
