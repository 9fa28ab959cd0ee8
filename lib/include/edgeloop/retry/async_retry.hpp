#pragma once

#include <edgeloop/retry/attempt_handler.hpp>
#include <edgeloop/retry/detail/operation.hpp>
#include <edgeloop/retry/error.hpp>
#include <edgeloop/retry/options.hpp>
#include <edgeloop/retry/policy.hpp>
#include <edgeloop/retry/result.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

namespace edgeloop::retry {

namespace detail {
using retry_handler = boost::asio::any_completion_handler<void(boost::system::error_code, result)>;
void start_retry(boost::asio::any_io_executor ex, policy p, retry_options opts, operation op,
                 retry_handler handler);
} // namespace detail

/// Something async_retry can run: called with an attempt_handler, it starts one attempt and calls the
/// handler once with the outcome (possibly before returning).
template <typename F>
concept retry_operation = std::move_constructible<std::decay_t<F>> &&
    std::is_invocable_v<std::add_lvalue_reference_t<std::decay_t<F>>, attempt_handler>;

/// Runs `op` until it succeeds, waiting a full-jitter backoff delay (retry::backoff with policy `p`) on
/// a steady_timer between attempts; nothing blocks. Each attempt starts on `ex`, never inside this call.
///
/// Completes with `void(error_code, retry::result)`:
///  - success: the attempt that succeeded;
///  - retry::error::retries_exhausted: the last allowed attempt failed (its error is in
///    result::last_error);
///  - the attempt's own error when opts.retryable deems it not worth retrying;
///  - boost::asio::error::operation_aborted after cancellation.
///
/// Cancellation: supports terminal, partial and total cancellation through the token's bound slot. While
/// waiting, the timer is cancelled and the operation completes at once (nothing is half done then). While
/// an attempt runs, the request is forwarded with its type to the attempt's own slot (see
/// attempt_handler), so the attempt's own guarantees apply; whatever error the attempt then ends with, no
/// retry follows and the operation completes with operation_aborted (an attempt that succeeds anyway is
/// reported as the success it is). An attempt that ignores its slot is waited for.
///
/// Initiate it and emit cancellation from `ex`'s context (or before the loop runs).
template <retry_operation Operation, typename CompletionToken>
auto async_retry(boost::asio::any_io_executor ex, policy p, Operation&& op, retry_options opts,
                 CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, result)>(
        [](auto handler, boost::asio::any_io_executor e, policy pol, retry_options o, detail::operation fn) {
            detail::start_retry(std::move(e), pol, std::move(o), std::move(fn), std::move(handler));
        },
        token, std::move(ex), p, std::move(opts), detail::operation(std::forward<Operation>(op)));
}

/// async_retry with default options: every error but operation_aborted is retried.
template <retry_operation Operation, typename CompletionToken>
auto async_retry(boost::asio::any_io_executor ex, policy p, Operation&& op, CompletionToken&& token) {
    return retry::async_retry(std::move(ex), p, std::forward<Operation>(op), retry_options{},
                              std::forward<CompletionToken>(token));
}

} // namespace edgeloop::retry
