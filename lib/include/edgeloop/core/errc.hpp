#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_condition.hpp>

#include <type_traits>

namespace edgeloop {

/// What a caller usually asks of a failure, across the codes of every module (category
/// "edgeloop.condition"). Compare an error_code with one: `if (ec == edgeloop::errc::timeout)`.
/// Each names a group of codes; the exact code (and transfer_info::cause) stays available.
enum class errc {
    /// Any deadline: the seven http timeouts (resolve, connect, handshake, write, response head,
    /// idle, total) and a system ETIMEDOUT.
    timeout = 1,
    /// The server's certificate was refused: expired, not yet valid, untrusted, self-signed, wrong
    /// host name, otherwise invalid.
    server_certificate,
    /// The server refused or demanded the client certificate.
    client_certificate,
    /// The TLS handshake failed, for any TLS reason (server_certificate and client_certificate
    /// included; a handshake timeout is a timeout).
    tls_handshake,
    /// The host name could not be resolved (resolve_failed; transfer_info::cause tells "no such name"
    /// from "try again").
    name_resolution,
};

const boost::system::error_category& condition_category() noexcept;

inline boost::system::error_condition make_error_condition(errc e) noexcept {
    return {static_cast<int>(e), condition_category()};
}

} // namespace edgeloop

template <>
struct boost::system::is_error_condition_enum<edgeloop::errc> : std::true_type {};
