#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace edgeloop::outbox {

/// Errors of the outbox module (category "edgeloop.outbox").
enum class error {
    full = 1,          ///< the quota (max_messages / max_bytes) is reached and the policy is refuse
    message_too_large, ///< one message is larger than max_bytes by itself
    disk_full,         ///< SQLite could not write (SQLITE_FULL): nothing of the enqueue was kept
    corrupt_database,  ///< the file is not a SQLite database, or fails its integrity check
    newer_schema,      ///< the database was written by a newer edgeloop (schema version above ours)
    database_error,    ///< any other SQLite failure (the message names the call and SQLite's text)
    closed,            ///< the outbox was closed (or never opened)
    expired,           ///< a message outlived options::ttl (the reason of its dead letter)
};

const boost::system::error_category& outbox_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), outbox_category()};
}

} // namespace edgeloop::outbox

template <>
struct boost::system::is_error_code_enum<edgeloop::outbox::error> : std::true_type {};
