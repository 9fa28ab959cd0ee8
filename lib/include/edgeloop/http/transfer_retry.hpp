#pragma once

#include <chrono>
#include <cstdint>

namespace edgeloop::http {

/// Retries of one transfer in the engine (request::retry), with curl's --retry meanings.
///
/// A failed attempt is tried again, up to `count` more times, after a delay on a timer of the client's
/// executor (nothing sleeps), when:
///   - its error is transient: the name did not resolve, the connection was refused, failed or reset,
///     a deadline passed (resolve, connect, handshake, write, response head, idle, total), no response
///     or only part of the body came (partial_response, read_failed, no_response, write_failed), the
///     proxy could not be reached or its tunnel timed out; with `all_errors`, any error except
///     cancellation (operation_aborted);
///   - or the final response's status is 408, 429, 500, 502, 503 or 504 (that response's body is not
///     delivered; the last attempt's response is delivered whatever its status, as curl does).
/// Only requests that may be sent twice are retried: an idempotent method (GET, HEAD, OPTIONS, TRACE,
/// PUT, DELETE) or request::replayable, and no request::body_source.
///
/// A GET cut off after delivering bytes resumes where it stopped (`resume`): the retry asks
/// `Range: bytes=N-` with `If-Range` on the validator of the response that delivered them (its strong
/// ETag, else its Last-Modified), so that a resource changed between the attempts comes whole from its
/// first byte (the server answers 200) instead of two versions being spliced. Without a validator the
/// retry starts from the first byte again. When the body starts again from an offset below what was
/// delivered, handlers::on_body_rewind says so first.
///
/// transfer_info::attempts counts the attempts, transfer_info::resumed_from is the offset the last
/// one's body started at; transfer_info::elapsed covers all attempts and their delays, body_bytes all
/// bytes delivered. timeouts apply to each attempt (timeouts::total too, as curl's --max-time).
/// Cancelling the transfer (its slot, client::cancel_all, ~client) ends it at once with
/// operation_aborted, also while it waits for a retry.
struct transfer_retry {
    /// Retries after the first attempt; 0: none (the default).
    std::uint32_t count = 0;
    /// A fixed delay before each retry (curl's --retry-delay); zero: full-jitter exponential backoff
    /// (edgeloop::retry::backoff) with windows from backoff_base, doubling up to backoff_max.
    std::chrono::milliseconds delay{0};
    std::chrono::milliseconds backoff_base{std::chrono::seconds(1)};
    std::chrono::milliseconds backoff_max{std::chrono::minutes(10)};
    /// No retry starts later than this after the transfer started (curl's --retry-max-time); zero: no
    /// limit. A Retry-After (429, 503) longer than the backoff delay is honoured, up to this limit.
    std::chrono::milliseconds max_time{0};
    /// Retry on every error, not only transient ones (curl's --retry-all-errors).
    bool all_errors = false;
    /// Resume a cut-off GET with a Range request (see above) instead of fetching it again whole.
    bool resume = true;
};

} // namespace edgeloop::http
