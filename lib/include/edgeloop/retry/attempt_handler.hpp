#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/system/error_code.hpp>

namespace edgeloop::retry {

/// What async_retry hands each attempt of the operation: call it once with the attempt's outcome.
/// It carries the attempt's own cancellation slot and async_retry's executor as associated
/// characteristics, so passing it (or something bound to its slot) to an Asio operation lets
/// cancellation of async_retry reach the running attempt.
using attempt_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

} // namespace edgeloop::retry
