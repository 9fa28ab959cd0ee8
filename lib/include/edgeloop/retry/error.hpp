#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace edgeloop::retry {

/// Errors of the retry module (category "edgeloop.retry"). Cancellation is reported as
/// boost::asio::error::operation_aborted.
enum class error {
    /// Every attempt the policy allows failed; retry::result::last_error holds the last failure.
    retries_exhausted = 1,
};

const boost::system::error_category& retry_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), retry_category()};
}

} // namespace edgeloop::retry

template <>
struct boost::system::is_error_code_enum<edgeloop::retry::error> : std::true_type {};
