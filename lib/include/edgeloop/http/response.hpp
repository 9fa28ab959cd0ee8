#pragma once

#include <edgeloop/http/request.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace edgeloop::http {

/// Status line and header fields of a response, handed to on_response before any body byte.
struct response_head {
    unsigned status = 0;
    unsigned version = 11; ///< 10 or 11
    std::string reason;
    header_list headers;

    /// First value of a header (case-insensitive name), empty when absent.
    std::string_view header(std::string_view name) const noexcept;
};

/// What a finished transfer reports, whether it succeeded or not.
struct transfer_info {
    std::string url;
    unsigned status = 0;          ///< 0 when no response head arrived
    std::uint64_t body_bytes = 0; ///< body bytes delivered to on_body
    std::chrono::milliseconds elapsed{0};
    std::string peer;   ///< "host:port" the transfer was for
    std::string detail; ///< extra words about a failure (OpenSSL reason, errno text), may be empty
    /// The error under the failure, as the resolver, the socket or OpenSSL reported it; empty when the
    /// failure had no such cause. E.g. for http::error::resolve_failed,
    /// boost::asio::error::host_not_found (no such name) or host_not_found_try_again (DNS unreachable).
    boost::system::error_code cause;
    std::string alpn;               ///< ALPN protocol the server selected, empty when none
    std::string final_url;          ///< URL of the last hop (differs from url after redirects)
    unsigned redirects = 0;         ///< redirects followed
    bool reused_connection = false; ///< the last hop ran on a kept-alive connection
    bool tls_resumed = false;       ///< the last hop's TLS session was resumed (abbreviated handshake)
    /// When each step of the last hop ended, from the transfer's start (curl's -w times); zero for a
    /// step that did not happen (a kept-alive connection is neither resolved, connected nor handshaken).
    std::chrono::microseconds time_namelookup{0};    ///< name resolved
    std::chrono::microseconds time_connect{0};       ///< TCP connected
    std::chrono::microseconds time_appconnect{0};    ///< TLS handshake done
    std::chrono::microseconds time_starttransfer{0}; ///< response head received
    std::chrono::microseconds time_total{0};         ///< completed (elapsed, finer)
    unsigned connects = 0;                           ///< new connections made, all hops
    std::string remote_ip;                           ///< address of the last hop's connection
    std::uint16_t remote_port = 0;
    /// The proxy the last hop went through ("http://host:port", never credentials), empty when direct.
    std::string proxy;
    /// Why that proxy, or why none (proxy_choice::reason); empty when no proxy is configured at all.
    std::string proxy_reason;
    /// The SHA-256 (lower-case hex) of the body delivered, when request::expected_sha256 was set.
    std::string sha256;
    /// Attempts made (request::retry): 1 without a retry.
    unsigned attempts = 1;
    /// The offset of the resource the last attempt's body started at: range->first or where a retry
    /// resumed (a 206 answer); 0 when the body delivered last started at the first byte.
    std::uint64_t resumed_from = 0;
    /// request::range from first > 0 was answered 416 with the resource exactly that long: the bytes
    /// before `first` are the whole body (nothing more delivered; status is 416).
    bool already_complete = false;
    /// The final response's validators, as received, to store for a later conditional request
    /// (request::if_none_match, if_modified_since through parse_http_date); empty when absent. A 304
    /// carries them too.
    std::string etag;
    std::string last_modified;
    /// The final response is 304 Not Modified: a success without a body.
    bool not_modified = false;
    /// The Content-Encoding decoded (request::decompress): "gzip" or "deflate"; empty when none was.
    std::string content_encoding;
};

/// A message for a user: "<host:port>: <reason>[ (<detail>)]", or "ok".
std::string describe(const boost::system::error_code& ec, const transfer_info& info);

} // namespace edgeloop::http
