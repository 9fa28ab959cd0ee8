#pragma once

#include <edgeloop/retry/policy.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace edgeloop::outbox {

/// How an enqueue reaches the disk (SQLite's `PRAGMA synchronous` in WAL mode).
enum class durability {
    /// synchronous=FULL: every commit is fsync'ed before enqueue completes, so an acknowledged message
    /// survives a power loss. The default.
    full,
    /// synchronous=NORMAL: commits are fsync'ed at WAL checkpoints only. A crash of the process loses
    /// nothing, a power loss may lose the last commits (SQLite's documented trade-off), for several
    /// times the enqueue rate on slow flash.
    normal,
};

/// What enqueue does when the quota is reached.
enum class full_policy {
    refuse,      ///< the new message fails with error::full; the queue is untouched
    drop_oldest, ///< the oldest messages are dropped (counted in stats::dropped) to make room
};

struct options {
    /// The SQLite database file (created with its directory's permissions, mode 0600).
    std::string path;
    durability sync = durability::full;
    /// Quota: 0 means no limit. Bytes count topic, payload and properties of the queued messages.
    std::uint64_t max_bytes = 0;
    std::uint64_t max_messages = 0;
    full_policy when_full = full_policy::refuse;
    /// Messages older than this (from their enqueue) go to the dead letters instead of being sent.
    std::optional<std::chrono::seconds> ttl;
    /// Drain rate limit in messages per second (0: none): sends start at least 1/max_rate apart, so a
    /// long backlog does not trip the service's throttling.
    double max_rate = 0;
    /// Backoff between tries of a message that failed in a retryable way: full jitter, forever by default.
    retry::policy backoff{.base = std::chrono::milliseconds(500),
                          .max = std::chrono::milliseconds(30000),
                          .max_attempts = retry::retry_forever};
};

} // namespace edgeloop::outbox
