#include "retry_op.hpp"

#include <edgeloop/core/log.hpp>
#include <edgeloop/retry/retry_after.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace edgeloop::http::detail {

namespace net = boost::asio;

namespace {

/// Read per step when hashing request::resume_file: the loop runs other work between steps.
constexpr std::size_t prefix_piece = 64 * 1024;

bool is_idempotent_method(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
           method == "PUT" || method == "DELETE";
}

/// curl's --retry statuses: request timeout, too many requests, and the transient server errors.
bool retried_status(unsigned status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty())
        return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::optional<content_range> parse_content_range(std::string_view value) {
    value = trim(value);
    constexpr std::string_view unit = "bytes ";
    if (value.size() < unit.size() || value.substr(0, unit.size()) != unit)
        return std::nullopt;
    value.remove_prefix(unit.size());
    const auto slash = value.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    content_range r;
    const auto range = value.substr(0, slash);
    const auto length = value.substr(slash + 1);
    if (length != "*") {
        r.length = parse_u64(length);
        if (!r.length)
            return std::nullopt;
    }
    if (range == "*")
        return r.length ? std::optional(r) : std::nullopt; // "bytes */*" says nothing
    const auto dash = range.find('-');
    if (dash == std::string_view::npos)
        return std::nullopt;
    r.first = parse_u64(range.substr(0, dash));
    r.last = parse_u64(range.substr(dash + 1));
    if (!r.first || !r.last || *r.last < *r.first || (r.length && *r.last >= *r.length))
        return std::nullopt;
    return r;
}

bool wants_retry_op(const request& req) noexcept {
    return req.retry.count > 0 || req.range.has_value();
}

void start_retry_op(const std::shared_ptr<client_state>& state, request req, handlers h,
                    fetch_handler handler) {
    retry_op::start(std::make_shared<retry_op>(state, std::move(req), std::move(h), std::move(handler)));
}

retry_op::retry_op(std::shared_ptr<client_state> state, request req, handlers h, fetch_handler handler)
    : state_(std::move(state))
    , req_(std::move(req))
    , h_(std::move(h))
    , handler_(std::move(handler))
    , timer_(state_->ex)
    , started_(std::chrono::steady_clock::now()) {
    info_.url = req_.url;
    info_.attempts = 0;
}

retry_op::~retry_op() {
    if (prefix_fd_ >= 0)
        ::close(prefix_fd_);
}

void retry_op::start(std::shared_ptr<retry_op> created) {
    created->cancel_epoch_ = created->state_->cancel_epoch.load();
    auto slot = net::get_associated_cancellation_slot(created->handler_);
    if (slot.is_connected())
        slot.assign([weak = created->weak_from_this()](net::cancellation_type) {
            if (auto self = weak.lock())
                self->cancel();
        });
    auto ex = created->state_->ex;
    net::post(ex, [self = std::move(created)] {
        if (self->completed_)
            return;
        self->state_->retrying.insert(self.get());
        if (self->cancel_epoch_ != self->state_->cancel_epoch.load())
            return self->cancel();
        if (!self->check_request())
            return;
        self->hash_prefix();
    });
}

void retry_op::cancel() {
    if (completed_)
        return;
    cancelled_ = true;
    if (inner_running_) // the attempt completes (posted) with operation_aborted, then so does this
        return inner_signal_.emit(net::cancellation_type::terminal);
    complete(net::error::operation_aborted); // waiting for a retry, or hashing resume_file
}

bool retry_op::check_request() {
    const auto refuse = [this](std::string why) {
        info_.detail = std::move(why);
        complete(error::invalid_request);
        return false;
    };
    if (req_.range) {
        first_ = req_.range->first;
        next_offset_ = first_;
        held_from_ = first_;
        if (req_.range->last && *req_.range->last < first_)
            return refuse("range: last is before first");
        if (req_.method != "GET" && req_.method != "HEAD")
            return refuse("range: only for GET or HEAD");
    }
    if (!req_.expected_sha256.empty()) {
        auto expected = body_digest::parse_hex(req_.expected_sha256);
        if (!expected)
            return refuse("expected_sha256 is not 64 hexadecimal digits");
        digest_ = std::make_unique<body_digest>(std::move(*expected));
    }
    if (req_.retry.count > 0) {
        retry::policy p;
        p.base = std::max(req_.retry.backoff_base, std::chrono::milliseconds(1));
        p.max = std::max(req_.retry.backoff_max, p.base);
        p.max_attempts = req_.retry.count;
        backoff_.emplace(p);
    }
    return true;
}

/// With expected_sha256, the bytes of resume_file before range->first go into the digest first: read
/// in pieces, each step posted, so a large file never holds up the loop.
void retry_op::hash_prefix() {
    if (completed_)
        return;
    if (!digest_ || first_ == 0 || req_.resume_file.empty() || req_.method == "HEAD")
        return attempt();
    const auto fail = [this](const std::string& why) {
        info_.detail = req_.resume_file + ": " + why;
        complete(error::resume_file_unreadable);
    };
    if (prefix_fd_ < 0) {
        prefix_fd_ = ::open(req_.resume_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (prefix_fd_ < 0)
            return fail(std::strerror(errno));
    }
    std::array<std::byte, prefix_piece> buffer{};
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(prefix_piece, first_ - prefix_hashed_));
    const auto n = ::read(prefix_fd_, buffer.data(), want);
    if (n < 0 && errno == EINTR)
        return net::post(state_->ex, [self = shared_from_this()] { self->hash_prefix(); });
    if (n < 0)
        return fail(std::strerror(errno));
    if (n == 0)
        return fail("holds " + std::to_string(prefix_hashed_) + " bytes, fewer than the " +
                    std::to_string(first_) + " the range starts at");
    digest_->update(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)));
    prefix_hashed_ += static_cast<std::uint64_t>(n);
    if (prefix_hashed_ < first_)
        return net::post(state_->ex, [self = shared_from_this()] { self->hash_prefix(); });
    ::close(prefix_fd_);
    prefix_fd_ = -1;
    attempt();
}

void retry_op::attempt() {
    if (completed_)
        return;
    const auto generation = ++generation_;
    ++info_.attempts;
    abandon_ = {};
    status_retry_delay_.reset();
    retry_after_.reset();
    accepted_ = false;
    already_complete_ = false;
    request r = req_; // each attempt sends the request as given (a body is sent again whole)
    r.expected_sha256.clear();
    r.range.reset();
    r.resume_file.clear();
    r.retry = {};
    // Where this attempt's body should start: where the last one stopped when it can resume there
    // safely (If-Range on a validator), else from the start again (the range's when it is bounded).
    const bool bounded = req_.range && req_.range->last;
    bool resuming = false;
    if (next_offset_ == held_from_)
        asked_from_ = next_offset_; // nothing delivered since the start (or the last rewind)
    else if (r.method == "GET" && req_.retry.resume && !validator_.empty() && !req_.decompress) {
        // (a decoded body's offsets are not the encoded resource's: request::decompress starts again)
        asked_from_ = next_offset_;
        resuming = true;
    } else
        asked_from_ = bounded ? first_ : 0;
    range_asked_ = asked_from_ > 0 || bounded;
    if (range_asked_) {
        std::string value = "bytes=" + std::to_string(asked_from_) + "-";
        if (req_.range && req_.range->last)
            value += std::to_string(*req_.range->last);
        r.headers.emplace_back("Range", std::move(value));
        if (resuming)
            r.headers.emplace_back("If-Range", validator_);
    }
    handlers inner;
    auto weak = weak_from_this();
    inner.on_response = [weak, generation](const response_head& head) {
        if (auto self = weak.lock())
            self->on_head(generation, head);
    };
    if (h_.on_body)
        inner.on_body = [weak, generation](std::span<const std::byte> bytes) {
            if (auto self = weak.lock(); self && self->accept(generation, bytes) && self->h_.on_body)
                self->h_.on_body(bytes);
        };
    else if (!h_.on_body_paced)
        inner.on_body = [weak, generation](std::span<const std::byte> bytes) {
            if (auto self = weak.lock())
                self->accept(generation, bytes);
        };
    if (h_.on_body_paced)
        inner.on_body_paced = [weak, generation](std::span<const std::byte> bytes,
                                                 std::function<void()> resume) {
            auto self = weak.lock();
            if (!self || !self->accept(generation, bytes) || !self->h_.on_body_paced)
                return resume();
            self->h_.on_body_paced(bytes, std::move(resume));
        };
    inner_running_ = true;
    start_single_fetch(state_, std::move(r), std::move(inner),
                       net::bind_cancellation_slot(inner_signal_.slot(),
                                                   [self = shared_from_this(), generation](
                                                       const error_code& ec, transfer_info info) mutable {
                                                       self->on_attempt_done(generation, ec, std::move(info));
                                                   }));
}

void retry_op::rewind(std::uint64_t offset) {
    if (next_offset_ == offset)
        return;
    next_offset_ = offset;
    held_from_ = offset;
    // The digest covers resume_file's prefix and what follows, or the bytes from the range's start.
    if (digest_ && (offset == 0 || prefix_hashed_ == 0))
        digest_->reset();
    if (h_.on_body_rewind)
        h_.on_body_rewind(offset);
}

/// Ends the running attempt early (its completion, posted, then sees abandon_).
void retry_op::end_attempt(const error_code& ec) {
    abandon_ = ec;
    inner_signal_.emit(net::cancellation_type::terminal);
}

void retry_op::on_head(std::uint64_t generation, const response_head& head) {
    if (completed_ || generation != generation_)
        return;
    info_.status = head.status;
    // A status worth retrying is not delivered unless it is the last chance.
    if (retried_status(head.status) && may_retry()) {
        std::optional<std::chrono::milliseconds> server_delay;
        if (head.status == 429 || head.status == 503)
            if (const auto ra = retry::parse_retry_after(head.header("Retry-After")))
                server_delay = std::chrono::duration_cast<std::chrono::milliseconds>(*ra);
        if (auto delay = next_delay(server_delay)) {
            status_retry_delay_ = delay;
            info_.detail = "HTTP " + std::to_string(head.status);
            return end_attempt(error::partial_response); // replaced by the status retry
        }
    }
    const std::string range_words = "asked bytes=" + std::to_string(asked_from_) + "-";
    std::uint64_t base = 0;
    if (range_asked_ && head.status == 206) {
        const auto cr = parse_content_range(head.header("Content-Range"));
        if (!cr || !cr->first || *cr->first != asked_from_) {
            info_.detail =
                range_words + ", got Content-Range \"" + std::string(head.header("Content-Range")) + "\"";
            return end_attempt(error::range_mismatch);
        }
        base = asked_from_;
    } else if (range_asked_ && head.status == 416) {
        const auto cr = parse_content_range(head.header("Content-Range"));
        if (asked_from_ > 0 && !(req_.range && req_.range->last) && cr && !cr->first && cr->length &&
            *cr->length == asked_from_ && next_offset_ == asked_from_) {
            already_complete_ = true; // the bytes held are the whole resource (curl -C - on a whole file)
            if (h_.on_response)
                h_.on_response(head);
            return;
        }
        info_.detail =
            range_words + (cr && cr->length ? ", the resource has " + std::to_string(*cr->length) + " bytes"
                                            : ", got no resource length");
        return end_attempt(error::range_not_satisfiable);
    }
    // Anything else (200 to a range: Range ignored or If-Range failed; an error page) starts at byte 0.
    rewind(base);
    if (head.status >= 200 && head.status < 300) {
        const auto etag = head.header("ETag");
        if (!etag.empty() && etag.substr(0, 2) != "W/")
            validator_ = etag;
        else
            validator_ = head.header("Last-Modified");
    }
    info_.resumed_from = base;
    accepted_ = true;
    if (h_.on_response)
        h_.on_response(head);
}

bool retry_op::accept(std::uint64_t generation, std::span<const std::byte> bytes) {
    if (completed_ || generation != generation_ || !accepted_)
        return false;
    if (digest_)
        digest_->update(bytes);
    next_offset_ += bytes.size();
    delivered_ += bytes.size();
    return true;
}

bool retry_op::transient(const error_code& ec) const {
    if (ec == net::error::operation_aborted)
        return false;
    if (req_.retry.all_errors)
        return true;
    if (ec.category() != http_category())
        return false;
    return is_transient(static_cast<error>(ec.value())); // as aws_post's retries
}

/// The request may be sent again at all: something left of the count, and a request that may be
/// received twice.
bool retry_op::may_retry() const {
    if (!backoff_ || backoff_->exhausted() || cancelled_)
        return false;
    if (req_.body_source)
        return false;
    return req_.replayable || is_idempotent_method(req_.method);
}

std::optional<std::chrono::milliseconds>
retry_op::next_delay(std::optional<std::chrono::milliseconds> retry_after) {
    if (!may_retry())
        return std::nullopt;
    auto delay = backoff_->next_backoff(); // counts the retry
    if (!delay)
        return std::nullopt;
    if (req_.retry.delay.count() > 0)
        delay = req_.retry.delay;
    if (retry_after && *retry_after > *delay)
        delay = retry_after;
    if (req_.retry.max_time.count() > 0) {
        const auto at = std::chrono::steady_clock::now() + *delay;
        if (at - started_ > req_.retry.max_time)
            return std::nullopt;
    }
    return delay;
}

void retry_op::wait_and_retry(std::chrono::milliseconds delay) {
    waiting_ = true;
    if (core::log::enabled(core::log_level::debug))
        core::log::write(core::log_level::debug,
                         core::redact_url(req_.url) + ": attempt " + std::to_string(info_.attempts) +
                             " failed, retrying in " + std::to_string(delay.count()) + " ms");
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        self->waiting_ = false;
        if (ec || self->completed_)
            return;
        self->attempt();
    });
}

void retry_op::on_attempt_done(std::uint64_t generation, const error_code& ec, transfer_info info) {
    inner_running_ = false;
    if (completed_ || generation != generation_)
        return;
    // Keep what this object tracks across attempts; the rest is the last attempt's.
    const auto attempts = info_.attempts;
    const auto resumed_from = info_.resumed_from;
    const auto status = info_.status;
    std::string detail = info_.detail;
    info.url = req_.url;
    info_ = std::move(info);
    info_.attempts = attempts;
    info_.resumed_from = accepted_ || already_complete_ ? resumed_from : 0;
    if (info_.status == 0)
        info_.status = status;
    if (cancelled_)
        return complete(net::error::operation_aborted);
    if (status_retry_delay_) {
        info_.detail = detail;
        return wait_and_retry(*status_retry_delay_);
    }
    if (abandon_) {
        info_.detail = detail;
        return complete(abandon_);
    }
    if (!ec && already_complete_) {
        info_.already_complete = true;
        return complete({});
    }
    if (ec && transient(ec))
        if (const auto delay = next_delay(std::nullopt))
            return wait_and_retry(*delay);
    complete(ec);
}

void retry_op::complete(const error_code& ec_in) {
    if (completed_)
        return;
    completed_ = true;
    error_code ec = ec_in;
    inner_running_ = false;
    timer_.cancel();
    state_->retrying.erase(this);
    if (prefix_fd_ >= 0) {
        ::close(prefix_fd_);
        prefix_fd_ = -1;
    }
    info_.body_bytes = delivered_;
    if (!ec && digest_ && req_.method != "HEAD") {
        info_.sha256 = digest_->finish();
        if (!digest_->matches(info_.sha256)) {
            info_.detail = "expected sha256 " + digest_->expected_hex() + ", got " + info_.sha256;
            ec = error::digest_mismatch;
        }
    }
    info_.time_total =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
    info_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(info_.time_total);
    if (info_.attempts == 0)
        info_.attempts = 1;
    auto slot = net::get_associated_cancellation_slot(handler_);
    if (slot.is_connected())
        slot.clear();
    auto ex = net::get_associated_executor(handler_, state_->ex);
    auto invoke = [h = std::move(handler_), ec, info = std::move(info_)]() mutable {
        std::move(h)(ec, std::move(info));
    };
    // Posted: complete() may run inside a canceller's call or a callback of the consumer.
    net::post(state_->ex,
              [ex, invoke = std::move(invoke)]() mutable { net::dispatch(ex, std::move(invoke)); });
}

} // namespace edgeloop::http::detail
