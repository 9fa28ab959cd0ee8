#pragma once

#include <edgeloop/http/byte_range.hpp>
#include <edgeloop/http/options.hpp>
#include <edgeloop/http/rate_limit.hpp>
#include <edgeloop/http/transfer_retry.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace edgeloop::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// Fills `buffer` with the next bytes of a request body and returns how many it wrote (at most
/// buffer.size()); 0 ends the body. Called on the client's executor, synchronously: it must not block.
using body_source_fn = std::function<std::size_t(std::span<std::byte> buffer)>;

/// One HTTP request. Host and User-Agent are added when absent; Content-Length or Transfer-Encoding
/// follow from the body.
///
/// The body comes from at most one of `body`, `body_file` and `body_source` (setting more than one
/// fails the transfer with error::invalid_request before anything is sent):
///   - `body`: bytes in memory, sent with Content-Length (also `Content-Length: 0` for an empty POST/PUT).
///   - `body_file`: a regular file streamed from disk in limits::body_chunk_bytes pieces, never read
///     whole; Content-Length is its size when the request is sent. A file that cannot be opened fails
///     the transfer with error::request_body_unreadable before connecting (transfer_info::detail names
///     the file and the reason). The file is reopened and sent from its start for every attempt (a
///     307/308 redirect, a retry on a fresh connection). Reads are synchronous (local disk).
///   - `body_source`: a callback producing the body piece by piece, sent with
///     Transfer-Encoding: chunked. It cannot be replayed: a redirect that keeps the method (307, 308, or
///     301/302 for methods other than POST) fails with error::request_body_not_replayable, and a
///     kept-alive connection found closed is not retried on a fresh one (whatever `replayable` says).
/// A redirect that turns the request into a GET (303; 301/302 after POST) drops whichever body was set.
struct request {
    std::string method = "GET";
    std::string url;
    header_list headers;
    std::string body;
    std::string body_file;
    body_source_fn body_source;
    /// A kept-alive connection can turn out closed by the server just as a request is sent on it: the
    /// request may or may not have been received (and acted on). The transfer then sends it once more on
    /// a fresh connection (nothing of a response having arrived) if its method is idempotent (GET, HEAD,
    /// OPTIONS, TRACE, PUT, DELETE: RFC 9110 9.2.2) or this is set; otherwise (a POST, PATCH, ...) it fails
    /// with no_response or connection_reset, and the caller decides. Set it when the server may receive
    /// the request twice (a publish that is delivered at least once anyway, an idempotency key).
    bool replayable = false;
    /// This transfer's deadlines and size limits instead of the client's (client_options::timeouts,
    /// client_options::limits): one client, one pool, different needs per transfer. The whole struct
    /// replaces the client's (start from `client.options().timeouts` to change one field).
    std::optional<http::timeouts> timeouts;
    std::optional<http::limits> limits;
    /// The SHA-256 the final response's body must have: 64 hexadecimal digits (either case); empty: not
    /// checked. The body is hashed through OpenSSL's EVP as it is delivered to on_body (nothing is held
    /// back); when it ends with another digest the transfer fails with error::digest_mismatch (detail
    /// "expected sha256 E, got G", transfer_info::sha256 = G) after its last byte was delivered, so a
    /// caller writing a file keeps it only on success. Checked whatever the status (an error page is not
    /// the file expected), not for a HEAD request. Not 64 hex digits: error::invalid_request.
    std::string expected_sha256;
    /// Ask for part of the body only (`Range: bytes=first-[last]`). A 206 answer must carry a
    /// Content-Range starting at `first` (else error::range_mismatch); a 200 answer (the server ignores
    /// Range) delivers the whole body from its first byte, after handlers::on_body_rewind(0). A 416
    /// answer to `bytes=first-` whose Content-Range says the resource is exactly `first` bytes long means
    /// the bytes before `first` are the whole body already: a success with
    /// transfer_info::already_complete (its body is not delivered), as curl -C - does; any other 416 is
    /// error::range_not_satisfiable. transfer_info::resumed_from is `first` when the body started there.
    std::optional<byte_range> range;
    /// Resuming a body kept on disk (with `range`): the file holding its first range->first bytes, e.g.
    /// a ".part" file. With expected_sha256 they are hashed first (read in pieces on the executor before
    /// the request is sent), so the digest is over the whole body; a file shorter than range->first or
    /// unreadable fails with error::resume_file_unreadable. Without expected_sha256 it is not read.
    std::string resume_file;
    /// Retries of this transfer in the engine, resuming a cut-off body (transfer_retry); none by default.
    transfer_retry retry;
    /// This transfer's bandwidth limit for its response body (curl's --limit-rate), besides the client's
    /// (client_options::rate_limit; the stricter holds). Keep a copy of the handle to change the limit
    /// while the transfer runs (`lim.set(0)` lifts it). Empty: only the client's. See http::rate_limit.
    http::rate_limit rate_limit;
    /// Ask for a compressed body and decode it as it streams (curl's --compressed): sends
    /// `Accept-Encoding: gzip, deflate` (unless the headers have an Accept-Encoding of their own) and
    /// decodes a body with Content-Encoding gzip (x-gzip) or deflate (zlib-wrapped or raw, as curl
    /// takes it) through zlib. on_body, transfer_info::body_bytes, limits::max_body_bytes and
    /// expected_sha256 all see the DECODED bytes: a decompression bomb stops with
    /// error::body_too_large once the decoded size passes the limit, without decoding further. A
    /// corrupt or truncated stream fails with error::bad_content_encoding, another coding (br, zstd,
    /// two codings) with error::unsupported_content_encoding. False: nothing is asked or decoded, and a
    /// body the server compresses anyway arrives as it is.
    bool decompress = false;
    /// Conditional request (RFC 9110 13.1): an ETag stored from an earlier transfer_info::etag, sent as
    /// `If-None-Match` exactly as given (quotes included; "*" allowed). Empty: not sent.
    std::string if_none_match;
    /// Sent as `If-Modified-Since` / `If-Unmodified-Since` (an IMF-fixdate, whole seconds). A 304 Not
    /// Modified answer is a success with no body (transfer_info::not_modified); a failed
    /// If-Unmodified-Since is the server's 412. As curl does, a 200 from a server that ignores
    /// If-Modified-Since is taken as a 304 too when its Last-Modified is not newer than the time sent
    /// (and no range was asked): not_modified, status 200, no body read, `detail` saying so.
    std::optional<std::chrono::system_clock::time_point> if_modified_since;
    std::optional<std::chrono::system_clock::time_point> if_unmodified_since;
};

} // namespace edgeloop::http
