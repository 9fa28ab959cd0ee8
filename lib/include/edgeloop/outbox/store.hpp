#pragma once

#include <edgeloop/outbox/dead_letter.hpp>
#include <edgeloop/outbox/message.hpp>
#include <edgeloop/outbox/options.hpp>
#include <edgeloop/outbox/stats.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeloop::outbox {

/// What open() found besides success.
struct open_report {
    /// Set when the file was corrupt or of a newer schema: where it was moved (PATH.corrupt-<time> or
    /// PATH.newer-<time>, with its -wal and -shm files), never emptied; a new database was made at PATH.
    std::string moved_aside_to;
    /// error::corrupt_database or error::newer_schema when it was moved, with `detail` saying why.
    boost::system::error_code reason;
    std::string detail;
};

/// The durable queue itself: synchronous SQLite calls, no threads, no I/O objects. outbox::queue runs
/// it on a worker thread; tests and `aws_post --status` use it directly. Every operation is one
/// transaction; every error is an edgeloop.outbox code, with last_error() naming the SQLite call and
/// SQLite's message. `now` is a parameter wherever time matters, so TTL rules are tested without sleeping.
class store {
public:
    store();
    ~store();
    store(store&&) noexcept;
    store& operator=(store&&) noexcept;

    /// Opens (or creates) the database at opts.path: WAL mode, synchronous FULL or NORMAL, schema
    /// checked. A corrupt file or one of a newer schema is moved aside and reported in `report`, and a
    /// fresh database is made in its place. Errors: database_error (cannot create the file),
    /// disk_full.
    boost::system::error_code open(const options& opts, open_report& report);
    /// Read-only look (for --status): fails with corrupt_database / newer_schema instead of moving.
    boost::system::error_code open_existing(const options& opts);
    bool is_open() const noexcept;

    /// Appends a message (its publish part) after the commit; returns its seq and fills m.seq, m.id and
    /// m.enqueued_at. Quota: error::full (refuse), or the oldest dropped (drop_oldest); a message larger
    /// than max_bytes: message_too_large. SQLITE_FULL: disk_full, and nothing changed.
    boost::system::result<std::int64_t> enqueue(message& m, std::chrono::system_clock::time_point now);

    /// Moves every message enqueued more than options::ttl before `now` to the dead letters (status 0,
    /// reason "expired: ..."); returns how many. Nothing without a TTL.
    boost::system::result<std::uint64_t> expire(std::chrono::system_clock::time_point now);
    /// The head of the queue (oldest seq), or none when it is empty.
    boost::system::result<std::optional<message>> front();

    /// Deletes a delivered message (no error if it is gone already: dropped by the quota meanwhile).
    boost::system::error_code remove(std::int64_t seq);
    /// Counts a failed try and keeps its reason; the message stays at its place.
    boost::system::error_code record_failure(std::int64_t seq, const std::string& reason);
    /// Moves a message to the dead letters with the status and reason.
    boost::system::error_code move_to_dead_letters(std::int64_t seq, unsigned status,
                                                   const std::string& reason,
                                                   std::chrono::system_clock::time_point now);

    boost::system::result<stats> statistics();
    /// The dead letters, oldest first, at most `limit`.
    boost::system::result<std::vector<dead_letter>> dead_letters(std::size_t limit = 1000);

    /// The last failure in words: the SQLite call and SQLite's message.
    const std::string& last_error() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace edgeloop::outbox
