#pragma once

// Private to lib/src/http: one transfer (all its redirect hops), from queueing for a connection slot to
// its single completion.

#include "client_state.hpp"
#include "connector.hpp"
#include "content_decoder.hpp"
#include "digest.hpp"
#include "rate_limiter.hpp"
#include "response_parser.hpp"

#include <edgeloop/http/url.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <optional>

namespace edgeloop::http::detail {

/// Appends Accept-Encoding (request::decompress) and the conditional request fields to a request head,
/// each unless the request's own headers have it (fetch_download.cpp).
void append_download_fields(std::string& head, const request& req);

/// Lives in shared_ptrs held by its pending handlers (and the waiting queue); completes its handler
/// exactly once (complete()), after which late callbacks only release resources.
class fetch_op : public std::enable_shared_from_this<fetch_op>, public connect_listener {
public:
    fetch_op(std::shared_ptr<client_state> state, request req, handlers h, fetch_handler handler);
    ~fetch_op();

    /// May be called from any thread: everything else happens on the client's executor.
    static void start(std::shared_ptr<fetch_op> op);
    void cancel();
    /// Takes an idle connection or opens a new one when the limits allow; false: keep waiting.
    bool try_acquire();
    /// Taken out of client_state::waiting: complete() need not search the queue for it.
    void dequeued() noexcept { queued_ = false; }
    bool completed() const noexcept { return completed_; }
    /// connect_listener: the connector made conn_ ready, or failed.
    void on_connected(const boost::system::error_code& ec) override;

private:
    using error_code = boost::system::error_code;

    const client_options& opts() const { return state_->opts; }
    /// The request's own deadlines and limits, or the client's.
    const http::timeouts& timeouts() const { return req_.timeouts ? *req_.timeouts : state_->opts.timeouts; }
    const http::limits& limits() const { return req_.limits ? *req_.limits : state_->opts.limits; }
    bool check_request();
    bool open_body_file();
    std::chrono::microseconds since_start() const;
    void close_body_file() noexcept;
    void begin_hop();
    void enqueue();
    void write_request();
    /// Stages the next piece (under the send limit, waiting for its budget when spent), then writes it.
    void send_next(bool with_head);
    bool send_allows(bool with_head);                      ///< rate_limiter.cpp
    std::shared_ptr<rate_gate> make_gate(direction which); ///< rate_limiter.cpp
    bool next_piece(bool with_head);
    void write_next();
    void on_write(error_code ec);
    void read_header(bool arm_deadline = true);
    void read_response(bool head);
    void read_more();
    void on_read(error_code ec, std::size_t n);
    void parse_buffered();
    void parsed(const error_code& ec);
    bool normalize(std::size_t from);
    void on_header(const error_code& ec);
    void read_body();
    bool rate_allows(std::size_t& room); ///< rate_limiter.cpp
    void on_body(error_code ec);
    void after_body(const error_code& ec);
    /// Hands body bytes (raw, or decoded into `owner`) to on_body or on_body_paced. True: on_body took
    /// them, go on; false: the transfer completed, or waits for on_body_paced's resume (then after_body).
    bool deliver(std::span<const std::byte> bytes, const std::shared_ptr<unsigned char[]>& owner,
                 const error_code& ec);
    // Downloads (fetch_download.cpp): Content-Encoding decoding and the conditional request's answer.
    /// The final response's validators and 304 into info_.
    void record_validators();
    /// A 200 whose Last-Modified is not newer than request::if_modified_since: taken as a 304.
    bool time_condition_unmet();
    /// Makes decoder_ for the response's Content-Encoding when request::decompress; false: failed.
    bool start_decoding();
    /// Decodes the pending raw bytes into decoded_ piece by piece and delivers them (a loop, not a
    /// recursion: one raw piece may decode to a thousand), then after_body.
    void decode_more(const error_code& ec);
    /// At the end of the body: false (the transfer failed) when the encoded stream did not end.
    bool decoded_whole();
    void resume_body(std::uint64_t token, const error_code& ec);
    void fail_io(const error_code& ec, error fallback);
    bool retry_on_fresh_connection(const error_code& ec);
    void end_of_hop();
    bool follow_redirect();
    void finish();
    void abort(const error_code& ec);
    void complete(const error_code& ec);
    void arm(std::chrono::milliseconds d, error on_expiry);
    void disarm() noexcept;
    void wait_deadline();
    void close_gracefully(std::shared_ptr<connection> c);

    template <typename F>
    void with_stream(F&& f);

    std::shared_ptr<client_state> state_;
    request req_;
    handlers h_;
    fetch_handler handler_;
    url_parts url_;
    std::string redirect_url_; ///< the URL of the current hop after a redirect (before: req_.url)
    std::string first_origin_; ///< set when the first redirect is followed
    std::string key_;
    std::uint64_t key_generation_ = 0;    ///< the identity generation key_ names (https only)
    std::optional<proxy_endpoint> proxy_; ///< this hop's proxy (proxy selection), if any
    bool anonymous_ = false;      ///< the client identity is withheld (another origin after a redirect)
    bool foreign_origin_ = false; ///< this hop is to another origin than the request's own
    transfer_info info_;
    // What only a running transfer uses is allocated when needed, not held inline: a queued transfer
    // (pool_options::max_queued of them may wait) costs its request, handlers and bookkeeping only
    // (tests/bench/README.md, "Bytes per transfer").
    /// Made for the first new connection: most transfers reuse one and never connect.
    std::shared_ptr<connector> connector_;
    std::shared_ptr<connection> conn_;
    /// The phase deadline is lazy: arm() only moves deadline_, and the timer, waiting for the deadline
    /// it was last set to, re-arms itself when the deadline has moved later (phases follow each other
    /// quickly; re-arming a timer per phase costs a cancellation and a handler each time).
    boost::asio::steady_timer phase_timer_;
    boost::asio::steady_timer total_timer_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point timer_at_ = std::chrono::steady_clock::time_point::max();
    error deadline_error_ = error::idle_timeout;
    std::uint64_t generation_ = 0;
    /// The request as it goes out is in conn_->head (start line and header fields) and conn_->out (each
    /// write staged: the head with the first body piece and its chunk framing, so that one write is one
    /// TLS record and one system call); out_buffers_ points into them.
    std::array<boost::asio::const_buffer, 2> out_buffers_;
    std::size_t out_count_ = 0;
    enum class framing : unsigned char { none, length, file, chunked } framing_ = framing::none;
    bool last_piece_ = true; ///< the write in flight ends the request
    bool is_head_ = false;   ///< HEAD request: the response has no body
    int body_fd_ = -1;       ///< body_file, open while its request is sent
    std::uint64_t body_file_size_ = 0;
    std::uint64_t body_file_sent_ = 0;
    /// Bandwidth limits (request::rate_limit, client_options::rate_limit): made at the first body read
    /// under one. body_room_: the room given to the parser for this piece; read_cap_: the most read from
    /// the connection at once while reading the body.
    std::shared_ptr<rate_gate> rate_gate_;
    /// The same for request bodies (a gate of their own: the two directions have a budget each). send_cap_:
    /// the most body bytes the next piece may carry, 0 when no limit applies; staged_body_: the body bytes
    /// of the piece staged; body_sent_: framing::length, the bytes of req_.body staged so far.
    std::shared_ptr<rate_gate> send_gate_;
    std::size_t send_cap_ = 0;
    std::size_t staged_body_ = 0;
    std::size_t body_sent_ = 0;
    std::size_t body_room_ = 0;
    std::size_t read_cap_ = 65536;
    std::unique_ptr<response_parser> parser_;  ///< made per response
    std::unique_ptr<body_digest> digest_;      ///< request::expected_sha256, when set
    std::unique_ptr<content_decoder> decoder_; ///< request::decompress and an encoded body
    std::shared_ptr<unsigned char[]> decoded_; ///< decoded pieces (body_chunk_bytes), as chunk_ for raw
    std::uint64_t decoded_bytes_ = 0;          ///< of this response's body
    line_normalizer normalizer_;
    bool reading_head_ = false;          ///< read_response: for the head (on_header) or the body (on_body)
    const char* refused_body_ = nullptr; ///< why normalizer_ refused body bytes read with the head
    /// Response body pieces. Shared with on_body_paced's resume, which keeps it alive while a paced
    /// consumer holds the bytes; otherwise given back to the client for the next transfer.
    std::shared_ptr<unsigned char[]> chunk_;
    std::uint64_t pause_token_ = 0;         ///< identifies the resume() of the piece being held
    std::shared_ptr<fetch_op> paused_self_; ///< set while on_body_paced holds a piece
    std::chrono::steady_clock::time_point started_;
    std::uint64_t cancel_epoch_ = 0;
    bool completed_ = false;
    bool queued_ = false; ///< in client_state::waiting
    bool redirecting_ = false;
    bool reused_ = false;
    bool force_fresh_ = false;
    bool retried_stale_ = false;
    bool stale_not_replayed_ = false; ///< a stale kept-alive connection failed a non-replayable request
    bool post_completion_ = false;    ///< cancelled by a caller: complete() posts the handler
    bool first_hop_parsed_ = false;   ///< the request's own URL was parsed (final_url is req_.url)
};

} // namespace edgeloop::http::detail
