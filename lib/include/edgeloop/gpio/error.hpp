#pragma once

#include <boost/system/error_code.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>

namespace edgeloop::gpio {

/// Errors of the gpio module (category "edgeloop.gpio").
enum class error {
    /// The input was closed (board::close(), or its source ended): no more edges will come.
    closed = 1,
    /// async_wait_edge was called while another wait on the same input was pending.
    wait_pending,
};

const boost::system::error_category& gpio_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), gpio_category()};
}

/// Thrown by board::input() and board::output() when a logical name cannot be used: what() names the
/// board and the line and lists the names the board knows, e.g.
/// "board 'sim' has no line 'BUTTON_C' (known: BUTTON_A, BUTTON_B, LED1)".
class lookup_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace edgeloop::gpio

template <>
struct boost::system::is_error_code_enum<edgeloop::gpio::error> : std::true_type {};
