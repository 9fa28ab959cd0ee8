#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace edgeloop::outbox {

/// What one attempt to send a message came to, as the sender reports it.
struct outcome {
    /// Empty: delivered (a 2xx). Otherwise the failure (aws::status_error(status) for an HTTP answer,
    /// the transport's error, or a request-building error).
    boost::system::error_code error;
    unsigned status = 0; ///< HTTP status when there was an answer
    std::string reason;  ///< human-readable detail for the dead letter or the log
    /// A Retry-After the server sent, honoured by the backoff when longer than its jitter.
    std::optional<std::chrono::milliseconds> retry_after;
};

/// What the queue does with a message after an attempt (sans-io).
enum class action {
    remove,      ///< delivered: delete it and go on
    retry,       ///< keep it at the head and try again after a backoff delay (order is kept)
    dead_letter, ///< move it to the dead letters and go on
};

/// The rule: success removes. An answer or error of the aws module that aws::is_retryable refuses (400,
/// 403, 413 ..., a request that cannot be built) is about this message: dead letter. Everything else
/// retries: 429 and 5xx, the network, deadlines, and also TLS and certificate failures, which are about
/// the connection and would fail every message alike (an expired client certificate must not empty the
/// queue into the dead letters). operation_aborted retries too: the message stays.
action decide(const outcome& o) noexcept;

} // namespace edgeloop::outbox
