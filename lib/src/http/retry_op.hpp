#pragma once

// Private to lib/src/http: a transfer with request::retry or request::range. It runs the plain
// transfer (fetch_op) once per attempt, asks for the byte range (and resumes a cut-off body with
// Range and If-Range), checks the answer (206, 200, 416), waits between attempts on a timer of the
// loop, and hashes the whole body itself (request::expected_sha256 across attempts and resume_file).

#include "client_state.hpp"
#include "digest.hpp"

#include <edgeloop/retry/backoff.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace edgeloop::http::detail {

/// The plain transfer, without retries nor ranges (client.cpp).
void start_single_fetch(const std::shared_ptr<client_state>& state, request req, handlers h,
                        fetch_handler handler);

/// True when the request needs a retry_op (request::retry.count or request::range set).
bool wants_retry_op(const request& req) noexcept;
void start_retry_op(const std::shared_ptr<client_state>& state, request req, handlers h,
                    fetch_handler handler);

/// A parsed Content-Range: `bytes first-last/length` or `bytes */length` (length empty for '*').
struct content_range {
    std::optional<std::uint64_t> first;
    std::optional<std::uint64_t> last;
    std::optional<std::uint64_t> length;
};
/// nullopt when `value` is not a bytes Content-Range (RFC 9110 14.4).
std::optional<content_range> parse_content_range(std::string_view value);

/// Lives in shared_ptrs held by its pending handlers; completes its handler once (complete()).
class retry_op : public std::enable_shared_from_this<retry_op> {
public:
    retry_op(std::shared_ptr<client_state> state, request req, handlers h, fetch_handler handler);
    ~retry_op();

    static void start(std::shared_ptr<retry_op> op);
    /// On the executor (a bound slot's emit, client::cancel_all): completion is posted.
    void cancel();

private:
    using error_code = boost::system::error_code;

    bool check_request();
    void hash_prefix();
    void attempt();
    void on_head(std::uint64_t generation, const response_head& head);
    bool accept(std::uint64_t generation, std::span<const std::byte> bytes);
    void on_attempt_done(std::uint64_t generation, const error_code& ec, transfer_info info);
    bool transient(const error_code& ec) const;
    bool may_retry() const;
    /// The delay before the next attempt, or nullopt when no retry is left (count, max_time).
    std::optional<std::chrono::milliseconds> next_delay(std::optional<std::chrono::milliseconds> retry_after);
    void wait_and_retry(std::chrono::milliseconds delay);
    void rewind(std::uint64_t offset);
    void end_attempt(const error_code& ec);
    void complete(const error_code& ec);

    std::shared_ptr<client_state> state_;
    request req_;
    handlers h_;
    fetch_handler handler_;
    boost::asio::steady_timer timer_;
    boost::asio::cancellation_signal inner_signal_;
    std::optional<retry::backoff> backoff_;
    std::unique_ptr<body_digest> digest_;
    transfer_info info_;
    std::chrono::steady_clock::time_point started_;
    std::uint64_t cancel_epoch_ = 0;
    std::uint64_t generation_ = 0;  ///< the attempt running; callbacks of older ones are ignored
    std::uint64_t first_ = 0;       ///< range->first
    std::uint64_t next_offset_ = 0; ///< the offset of the resource the next delivered byte is at
    std::uint64_t held_from_ = 0;   ///< the consumer holds [held_from_, next_offset_)
    std::uint64_t asked_from_ = 0;  ///< this attempt's Range start (when range_asked_)
    std::uint64_t prefix_hashed_ = 0;
    std::uint64_t delivered_ = 0; ///< body bytes delivered, all attempts
    std::string validator_;       ///< If-Range for a resume: strong ETag, else Last-Modified
    std::string prefix_detail_;
    std::optional<std::chrono::milliseconds> retry_after_;
    error_code abandon_; ///< why this attempt was ended by us (range error, retried status)
    std::optional<std::chrono::milliseconds> status_retry_delay_; ///< set: the status is retried
    int prefix_fd_ = -1;
    bool range_asked_ = false;
    bool accepted_ = false; ///< this attempt's body goes to the consumer
    bool inner_running_ = false;
    bool waiting_ = false;
    bool cancelled_ = false;
    bool completed_ = false;
    bool already_complete_ = false;
};

} // namespace edgeloop::http::detail
