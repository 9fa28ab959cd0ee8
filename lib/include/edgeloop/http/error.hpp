#pragma once

#include <edgeloop/core/errc.hpp>

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace edgeloop::http {

/// Errors of the http module (category "edgeloop.http"). Cancellation is reported as
/// boost::asio::error::operation_aborted, TLS reasons in the edgeloop.tls category.
enum class error {
    invalid_url = 1,
    unsupported_scheme,
    resolve_failed,
    connection_refused,
    connect_failed,
    resolve_timeout,
    connect_timeout,
    handshake_timeout,
    write_timeout,
    response_head_timeout,
    idle_timeout,
    total_timeout,
    header_too_large,
    body_too_large,
    malformed_response,
    partial_response,
    no_response,
    connection_reset,
    write_failed,
    read_failed,
    host_not_allowed,
    too_many_redirects,
    insecure_redirect,
    bad_redirect,
    /// Conflicting request or handler settings (more than one body, both on_body and on_body_paced).
    invalid_request,
    /// request::body_file cannot be opened or read (detail names the file and the reason).
    request_body_unreadable,
    /// The request must be sent again (307/308 redirect, retry) but its body_source cannot replay it.
    request_body_not_replayable,
    /// The response's Transfer-Encoding is not plain chunked (detail names the codings).
    unsupported_transfer_coding,
    /// pool_options::max_queued transfers were already waiting for a connection when this one would have
    /// had to wait too (multi::async_add waits for room instead).
    queue_full,
    /// The proxy URL cannot be used (not http://, no host; detail says which).
    invalid_proxy,
    /// The proxy's name did not resolve (detail names the proxy).
    proxy_resolve_failed,
    /// No TCP connection to the proxy: refused, unreachable (the proxy is down; detail names it).
    proxy_connect_failed,
    /// The proxy answered 407: credentials missing or refused (detail names the proxy and its status).
    proxy_auth_required,
    /// The proxy refused the CONNECT tunnel with another status (403, 502, ...; detail names both).
    proxy_tunnel_refused,
    /// The proxy's answer to CONNECT did not come within timeouts::proxy_tunnel.
    proxy_tunnel_timeout,
    /// The proxy's answer to CONNECT is not an HTTP/1.x response head, or it closed the connection.
    bad_proxy_response,
    /// SOCKS5: the proxy accepts none of the authentication methods offered (it wants credentials and
    /// none were given, or a method the client does not speak; detail names the proxy).
    socks_no_acceptable_method,
    /// SOCKS5: the proxy refused the username and password (RFC 1929; detail names the proxy, never the
    /// credentials).
    socks_auth_failed,
    /// SOCKS5 reply codes (RFC 1928 6), each its own error; detail names the proxy, the code and the target.
    socks_general_failure,            ///< 1: general SOCKS server failure
    socks_not_allowed,                ///< 2: connection not allowed by ruleset
    socks_network_unreachable,        ///< 3: network unreachable
    socks_host_unreachable,           ///< 4: host unreachable (socks5h: also a name the proxy cannot resolve)
    socks_refused,                    ///< 5: connection refused by the target
    socks_ttl_expired,                ///< 6: TTL expired
    socks_command_not_supported,      ///< 7: command not supported
    socks_address_type_not_supported, ///< 8: address type not supported
    /// The proxy's SOCKS5 answer is malformed (another version, an unknown method or reply code), or it
    /// closed the connection during the SOCKS handshake.
    bad_socks_response,
    /// The body's SHA-256 is not request::expected_sha256 (detail: both digests).
    digest_mismatch,
    /// A 206 answer to a Range request does not start at the byte asked for, or its Content-Range is
    /// missing or malformed (detail: the range asked and the Content-Range got).
    range_mismatch,
    /// A Range request was answered 416 and the bytes held are not the whole resource (detail: the
    /// range asked and the resource's length when the server gave it).
    range_not_satisfiable,
    /// request::resume_file cannot be read, or holds fewer than range->first bytes (detail: why).
    resume_file_unreadable,
    /// TLS with an https:// proxy failed: its certificate did not verify (untrusted, expired, another
    /// name) or the handshake itself failed. detail names the proxy and the reason; transfer_info::cause
    /// holds the tls::error (untrusted_issuer, host_name_mismatch, handshake_failed, ...).
    proxy_tls_failed,
    /// The TLS handshake with an https:// proxy did not finish within timeouts::proxy_handshake.
    proxy_handshake_timeout,
    /// request::decompress: the body's gzip or deflate stream is corrupt or ends early (detail names the
    /// encoding and zlib's reason).
    bad_content_encoding,
    /// request::decompress: the response's Content-Encoding is not one the client decodes (gzip, x-gzip,
    /// deflate, identity; detail names it).
    unsupported_content_encoding,
};

const boost::system::error_category& http_category() noexcept;

/// The error may go away if the same request is made again later: the name did not resolve, the
/// connection was refused, failed or reset, a deadline passed, the answer was cut off or missing, a
/// proxy or SOCKS server failed in a way that is not a refusal. What request::retry retries by default
/// (with 408, 429 and 5xx answers) and what aws_post's retries take as transient.
bool is_transient(error e) noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), http_category()};
}

} // namespace edgeloop::http

template <>
struct boost::system::is_error_code_enum<edgeloop::http::error> : std::true_type {};
