#include "fetch_op.hpp"

#include "connector.hpp"
#include "retry_op.hpp"

#include <edgeloop/core/log.hpp>
#include <edgeloop/http/client.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace edgeloop::http {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace urls = boost::urls;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace detail {

namespace {

bool is_parse_error(const error_code& ec) {
    if (ec.category() != bhttp::make_error_code(bhttp::error::bad_version).category())
        return false;
    switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::bad_line_ending:
    case bhttp::error::bad_method:
    case bhttp::error::bad_target:
    case bhttp::error::bad_version:
    case bhttp::error::bad_status:
    case bhttp::error::bad_reason:
    case bhttp::error::bad_field:
    case bhttp::error::bad_value:
    case bhttp::error::bad_content_length:
    case bhttp::error::bad_transfer_encoding:
    case bhttp::error::bad_chunk:
    case bhttp::error::bad_chunk_extension:
    case bhttp::error::bad_obs_fold:
    case bhttp::error::multiple_content_length:
        return true;
    default:
        return false;
    }
}

/// RFC 9110 5.6.2: a method or field name is a token.
bool is_token(std::string_view s) {
    static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               specials.find(c) != std::string_view::npos;
    });
}

/// A field value must not end the field or the head early (RFC 9110 5.5: CR, LF and NUL are invalid).
bool is_field_value(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

/// RFC 9110 9.2.2: a request with one of these methods may be sent again after a failure.
bool is_idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
           method == "PUT" || method == "DELETE";
}

/// False when the bytes received instead of a response head cannot begin "HTTP/1.x".
bool could_be_http(const beast::flat_buffer& received) {
    constexpr std::string_view prefix = "HTTP/1.";
    const std::string_view got(static_cast<const char*>(received.data().data()),
                               std::min(received.size(), prefix.size()));
    return got == prefix.substr(0, got.size());
}

} // namespace

fetch_op::fetch_op(std::shared_ptr<client_state> state, request req, handlers h, fetch_handler handler)
    : state_(std::move(state))
    , req_(std::move(req))
    , h_(std::move(h))
    , handler_(std::move(handler))
    , phase_timer_(state_->ex)
    , total_timer_(state_->ex)
    , started_(std::chrono::steady_clock::now()) {}

fetch_op::~fetch_op() {
    state_->active.erase(this);
    close_body_file();
    state_->give_back_chunk(std::move(chunk_), limits().body_chunk_bytes);
}

/// Takes the only reference to the transfer along to the client's executor: whatever thread initiated
/// it, the transfer runs, completes and is destroyed there (a transfer that fails at once would
/// otherwise be destroyed by the initiating thread, off the executor, when its temporary goes).
std::chrono::microseconds fetch_op::since_start() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
}

void fetch_op::start(std::shared_ptr<fetch_op> created) {
    created->cancel_epoch_ = created->state_->cancel_epoch.load();
    // The slot belongs to the caller's signal: connect it now, so that an emit before the transfer has
    // started is not lost.
    auto slot = net::get_associated_cancellation_slot(created->handler_);
    if (slot.is_connected())
        slot.assign([weak = created->weak_from_this()](net::cancellation_type) {
            if (auto self = weak.lock())
                self->cancel();
        });
    // Never complete inside the initiating call.
    auto ex = created->state_->ex;
    ++created->state_->starting;
    net::post(ex, [self = std::move(created)] {
        --self->state_->starting;
        self->state_->room_freed();
        if (self->completed_)
            return;
        self->state_->active.insert(self.get());
        if (self->cancel_epoch_ != self->state_->cancel_epoch.load())
            return self->cancel();
        if (!self->check_request())
            return;
        if (self->timeouts().total.count() > 0) {
            self->total_timer_.expires_after(self->timeouts().total);
            self->total_timer_.async_wait([weak = self->weak_from_this()](const error_code& ec) {
                if (auto op = weak.lock(); op && !ec)
                    op->abort(error::total_timeout);
            });
        }
        self->begin_hop();
    });
}

/// Called by the canceller (a bound slot's emit, cancel_all, ~client, multi::cancel, a callback of the
/// transfer's own): the completion is posted, never run inside that call.
void fetch_op::cancel() {
    post_completion_ = true;
    abort(net::error::operation_aborted);
}

/// Rejects conflicting settings and an unreadable body file before anything touches the network.
bool fetch_op::check_request() {
    if (limits().body_chunk_bytes == 0) {
        info_.detail = "limits::body_chunk_bytes is 0";
        abort(error::invalid_request);
        return false;
    }
    const int bodies = int{!req_.body.empty()} + int{!req_.body_file.empty()} + int{bool(req_.body_source)};
    if (bodies > 1) {
        info_.detail = "set only one of body, body_file and body_source";
        abort(error::invalid_request);
        return false;
    }
    if (h_.on_body && h_.on_body_paced) {
        info_.detail = "set only one of on_body and on_body_paced";
        abort(error::invalid_request);
        return false;
    }
    // The head is written as given: nothing in it may end a line early (request smuggling).
    if (!is_token(req_.method)) {
        info_.detail = "the method is not an HTTP token";
        abort(error::invalid_request);
        return false;
    }
    for (const auto& [name, value] : req_.headers) {
        if (!is_token(name) || !is_field_value(value)) {
            info_.detail = is_token(name) ? "header " + name + ": the value contains CR, LF or NUL"
                                          : "a header name is not an HTTP token";
            abort(error::invalid_request);
            return false;
        }
    }
    if (!req_.expected_sha256.empty()) {
        auto expected = body_digest::parse_hex(req_.expected_sha256);
        if (!expected) {
            info_.detail = "expected_sha256 is not 64 hexadecimal digits";
            abort(error::invalid_request);
            return false;
        }
        digest_ = std::make_unique<body_digest>(std::move(*expected));
    }
    if (req_.body_file.empty())
        return true;
    const bool ok = open_body_file();
    close_body_file(); // reopened when the request is sent: each attempt sends the file from its start
    return ok;
}

bool fetch_op::open_body_file() {
    close_body_file();
    // O_NONBLOCK: opening a FIFO must not block the loop (it is refused below, as is anything but a
    // regular file); reads of a regular file ignore the flag.
    const int fd = ::open(req_.body_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st {};
    std::string why;
    if (fd < 0)
        why = std::generic_category().message(errno);
    else if (::fstat(fd, &st) != 0)
        why = std::generic_category().message(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (!why.empty()) {
        if (fd >= 0)
            ::close(fd);
        info_.detail = req_.body_file + ": " + why;
        abort(error::request_body_unreadable);
        return false;
    }
    body_fd_ = fd;
    body_file_size_ = static_cast<std::uint64_t>(st.st_size);
    body_file_sent_ = 0;
    return true;
}

void fetch_op::close_body_file() noexcept {
    if (body_fd_ >= 0)
        ::close(body_fd_);
    body_fd_ = -1;
}

/// Parses the hop's URL, applies the allowlist (before any DNS), then takes or waits for a connection.
void fetch_op::begin_hop() {
    if (completed_)
        return;
    const std::string& current_url = redirect_url_.empty() ? req_.url : redirect_url_;
    if (current_url != state_->parsed_url) {
        auto parsed = parse_url(current_url);
        if (!parsed)
            return abort(parsed.error());
        state_->parsed_url_parts = std::move(*parsed);
        state_->parsed_url = current_url;
        state_->parsed_url_authority = state_->parsed_url_parts.authority();
        state_->parsed_url_origin =
            (state_->parsed_url_parts.tls ? "https://" : "http://") + state_->parsed_url_authority;
    }
    url_ = state_->parsed_url_parts;
    if (redirect_url_.empty())
        first_hop_parsed_ = true; // final_url: req_.url, filled in at completion
    else
        info_.final_url = redirect_url_;
    info_.peer = state_->parsed_url_authority;
    if (!state_->allow.allows(url_.host)) {
        info_.detail = "host " + url_.host;
        return abort(error::host_not_allowed);
    }
    if (url_.tls && !state_->tls) {
        info_.detail = "client has no TLS context";
        return abort(tls::error::handshake_failed);
    }
    proxy_.reset();
    if (state_->proxy_configured) {
        // Per hop, after the allowlist: the target is checked whatever proxy carries it.
        auto choice = state_->choose_proxy(url_.tls, url_.host);
        if (!choice) {
            info_.detail = "proxy URL (from options or environment) is not http://, https://, socks5:// "
                           "or socks5h://host[:port]";
            return abort(choice.error());
        }
        proxy_ = std::move(choice->proxy);
        info_.proxy = proxy_ ? proxy_->display() : std::string();
        info_.proxy_reason = std::move(choice->reason);
        if (core::log::enabled(core::log_level::info)) // -v: which proxy, or none and why
            core::log::write(core::log_level::info, info_.peer + ": " + info_.proxy_reason);
    }
    const std::string& origin = state_->parsed_url_origin;
    // first_origin_ is set when a redirect is followed (the first hop's own origin is its first).
    foreign_origin_ = !first_origin_.empty() && origin != first_origin_;
    anonymous_ = anonymous_ || foreign_origin_;
    key_ = origin;
    // Connections without the client identity are kept (and their sessions cached) apart.
    if (anonymous_ && url_.tls && state_->tls->has_client_identity())
        key_ += "#anonymous";
    if (proxy_) // a connection through a proxy (with its credentials) serves that route only
        key_ += " via " + proxy_->display() + " " + proxy_->user + "\n" +
                std::to_string(std::hash<std::string>{}(proxy_->password));
    if (url_.tls) { // per identity (rotation): pooled connections and sessions of one never serve another
        key_generation_ = state_->identity_generation;
        key_ += detail::client_state::identity_key_suffix(key_generation_);
    }
    if (try_acquire())
        return;
    // pool_options::max_queued refuses a new transfer, not a redirect or retry of one admitted.
    const std::size_t max_queued = state_->opts.pool.max_queued;
    if (redirect_url_.empty() && !retried_stale_ && max_queued != 0 && state_->waiting.size() >= max_queued) {
        info_.detail = std::to_string(state_->waiting.size()) + " transfers waiting";
        return abort(error::queue_full);
    }
    enqueue();
}

void fetch_op::enqueue() {
    queued_ = true;
    state_->waiting.push_back(shared_from_this());
}

bool fetch_op::try_acquire() {
    if (completed_)
        return true;                                                  // nothing to wait for any more
    if (url_.tls && key_generation_ != state_->identity_generation) { // rotated while this one waited
        key_.resize(key_.size() - detail::client_state::identity_key_suffix(key_generation_).size());
        key_generation_ = state_->identity_generation;
        key_ += detail::client_state::identity_key_suffix(key_generation_);
    }
    if (!force_fresh_) {
        if (auto c = state_->take_idle(key_)) {
            conn_ = std::move(c);
            reused_ = true;
            info_.reused_connection = true;
            info_.alpn = conn_->alpn;
            write_request();
            return true;
        }
    }
    if (!state_->make_room(url_.host))
        return false;
    conn_ = std::make_shared<connection>(state_, key_, url_.host);
    reused_ = false;
    info_.reused_connection = false;
    info_.alpn.clear();
    disarm(); // the connector bounds its phases itself
    if (!connector_)
        connector_ = std::make_shared<connector>(state_);
    connector_->start(conn_,
                      connect_target{url_, key_, anonymous_, !foreign_origin_, proxy_, opts().user_agent},
                      timeouts(), shared_from_this());
    return true;
}

/// The connector is done with conn_: a ready connection (write the request) or a failure.
void fetch_op::on_connected(const error_code& ec) {
    if (completed_)
        return;
    const connect_result& r = connector_->result();
    const auto since = [this](std::chrono::steady_clock::time_point t) {
        return t == std::chrono::steady_clock::time_point{}
                   ? std::chrono::microseconds(0)
                   : std::chrono::duration_cast<std::chrono::microseconds>(t - started_);
    };
    info_.time_namelookup = since(r.resolved);
    info_.time_connect = since(r.connected);
    if (r.connected != std::chrono::steady_clock::time_point{}) {
        ++info_.connects;
        info_.remote_ip = r.remote_ip;
        info_.remote_port = r.remote_port;
    }
    if (ec) {
        info_.detail = r.detail;
        info_.cause = r.cause;
        return abort(ec);
    }
    info_.alpn = conn_->alpn;
    info_.tls_resumed = r.tls_resumed;
    write_request();
}

void fetch_op::write_request() {
    if (url_.tls && !reused_)
        info_.time_appconnect = since_start();
    const auto& method = req_.method;
    is_head_ = method == "HEAD";
    // The framing follows from the body, whatever the caller's headers said.
    if (!req_.body_file.empty()) {
        if (!open_body_file())
            return;
        framing_ = framing::file;
    } else if (req_.body_source)
        framing_ = framing::chunked;
    else if (!req_.body.empty() || method == "POST" || method == "PUT")
        framing_ = framing::length;
    else
        framing_ = framing::none;

    conn_->head.clear();
    conn_->head.append(method).append(" ");
    // RFC 9112 3.2.2: plain http through an HTTP proxy (a SOCKS tunnel carries the origin-form)
    const bool absolute_form = proxy_ && !proxy_->is_socks() && !url_.tls;
    if (absolute_form)
        conn_->head.append("http://").append(url_.host_header());
    conn_->head.append(url_.target).append(" HTTP/1.1\r\n");
    if (absolute_form && proxy_->has_credentials)
        conn_->head.append("Proxy-Authorization: ").append(basic_credentials(*proxy_)).append("\r\n");
    bool has_host = false;
    bool has_user_agent = false;
    for (const auto& [name, value] : req_.headers) {
        // A caller's Host names the origin it was given for: another origin gets its own.
        has_host = has_host || (!foreign_origin_ && beast::iequals(name, "host"));
        has_user_agent = has_user_agent || beast::iequals(name, "user-agent");
    }
    if (!has_host)
        conn_->head.append("Host: ").append(url_.host_header()).append("\r\n");
    for (const auto& [name, value] : req_.headers) {
        // Credentials go only to the origin they were given for.
        if (anonymous_ && core::is_secret_header(name) && !opts().redirects.credentials_to_other_origins)
            continue;
        if (foreign_origin_ && beast::iequals(name, "host"))
            continue;
        if (framing_ != framing::none &&
            (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding")))
            continue;
        if (!opts().pool.keep_alive && beast::iequals(name, "connection"))
            continue;
        conn_->head.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_user_agent && !opts().user_agent.empty())
        conn_->head.append("User-Agent: ").append(opts().user_agent).append("\r\n");
    append_download_fields(conn_->head, req_);
    if (!opts().pool.keep_alive)
        conn_->head.append("Connection: close\r\n");
    switch (framing_) {
    case framing::none:
        break;
    case framing::length:
        conn_->head.append("Content-Length: ").append(std::to_string(req_.body.size())).append("\r\n");
        break;
    case framing::file:
        conn_->head.append("Content-Length: ").append(std::to_string(body_file_size_)).append("\r\n");
        break;
    case framing::chunked:
        conn_->head.append("Transfer-Encoding: chunked\r\n");
        break;
    }
    conn_->head.append("\r\n");
    if (core::log::enabled(core::log_level::debug)) {
        std::string line =
            info_.peer + ": > " + req_.method + " " + url_.target + (reused_ ? " (reused connection)" : "");
        for (const auto& [name, value] : req_.headers)
            line += "\n  " + name + ": " + core::redact_header(name, value);
        core::log::write(core::log_level::debug, line);
    }
    ++conn_->requests;
    body_sent_ = 0;
    send_next(true);
}

void fetch_op::send_next(bool with_head) {
    if (!send_allows(with_head))
        return; // waits for its bandwidth budget, then comes back here
    if (!next_piece(with_head))
        return;
    if (send_gate_ && staged_body_ > 0)
        send_gate_->consume(staged_body_);
    write_next();
}

/// Stages the next write in out_buffers_: the head (first write only) with the next piece of the body
/// and its chunk framing, contiguous where that is cheap, so that a small request is one TLS record and
/// one system call. Sets last_piece_ when this write ends the request. False: the transfer failed.
bool fetch_op::next_piece(bool with_head) {
    const std::size_t capacity =
        send_cap_ == 0 ? limits().body_chunk_bytes : std::min(send_cap_, limits().body_chunk_bytes);
    const std::size_t head = with_head ? conn_->head.size() : 0;
    out_count_ = 1;
    last_piece_ = true;
    staged_body_ = 0;
    switch (framing_) {
    case framing::none:
    case framing::length: {
        const std::string& body = req_.body;
        if (send_cap_ == 0 && body_sent_ == 0) { // no send limit: the whole body at once
            if (body.size() <= capacity) {
                conn_->out.assign(conn_->head).append(body);
                out_buffers_[0] = net::buffer(conn_->out);
            } else { // a large body goes out as it is, not copied
                out_buffers_[0] = net::buffer(conn_->head);
                out_buffers_[1] = net::buffer(body);
                out_count_ = 2;
            }
            staged_body_ = body_sent_ = body.size();
            return true;
        }
        // Under a send limit: a piece at a time, each no larger than the budget allows.
        const std::size_t n = std::min(capacity, body.size() - body_sent_);
        conn_->out.assign(conn_->head.data(), head).append(body, body_sent_, n);
        body_sent_ += n;
        staged_body_ = n;
        last_piece_ = body_sent_ >= body.size();
        out_buffers_[0] = net::buffer(conn_->out);
        return true;
    }
    case framing::file: {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(capacity, body_file_size_ - body_file_sent_));
        conn_->out.resize(head + want);
        if (with_head)
            std::memcpy(conn_->out.data(), conn_->head.data(), head);
        std::size_t n = 0;
        while (n < want) {
            const ssize_t got = ::pread(body_fd_, conn_->out.data() + head + n, want - n,
                                        static_cast<off_t>(body_file_sent_ + n));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                // Content-Length is already on the wire (or about to be): the request cannot be completed.
                info_.detail = req_.body_file + ": " +
                               (got < 0 ? std::generic_category().message(errno)
                                        : std::string("file shrank while it was being sent"));
                abort(error::request_body_unreadable);
                return false;
            }
            n += static_cast<std::size_t>(got);
        }
        body_file_sent_ += n;
        staged_body_ = n;
        last_piece_ = body_file_sent_ >= body_file_size_;
        out_buffers_[0] = net::buffer(conn_->out);
        return true;
    }
    case framing::chunked: {
        // Layout: [head][hex size CRLF][data][CRLF]; the data is produced in place first, then the head
        // and the chunk size are put right before it.
        constexpr std::size_t max_prefix = 16 + 2;
        const std::size_t data_at = head + max_prefix;
        conn_->out.resize(data_at + capacity + 2 + 5);
        const std::size_t n = req_.body_source(
            std::span<std::byte>(reinterpret_cast<std::byte*>(conn_->out.data() + data_at), capacity));
        if (completed_)
            return false; // the source cancelled the transfer
        if (n > capacity) {
            info_.detail = "body_source returned more bytes than the buffer holds";
            abort(error::invalid_request);
            return false;
        }
        staged_body_ = n;
        std::size_t end = data_at + n;
        std::size_t begin = data_at;
        if (n > 0) {
            char prefix[max_prefix];
            const auto r = std::to_chars(prefix, prefix + 16, n, 16);
            std::memcpy(r.ptr, "\r\n", 2);
            const auto len = static_cast<std::size_t>(r.ptr + 2 - prefix);
            begin -= len;
            std::memcpy(conn_->out.data() + begin, prefix, len);
            std::memcpy(conn_->out.data() + end, "\r\n", 2);
            end += 2;
            last_piece_ = false;
        } else {
            std::memcpy(conn_->out.data() + end, "0\r\n\r\n", 5); // the last chunk, no trailers
            end += 5;
        }
        begin -= head;
        if (with_head)
            std::memcpy(conn_->out.data() + begin, conn_->head.data(), head);
        out_buffers_[0] = net::buffer(conn_->out.data() + begin, end - begin);
        return true;
    }
    }
    return true;
}

/// One write: the head and/or a body piece. The write deadline covers each write on its own, so a long
/// upload is bounded per piece, not as a whole (the total deadline bounds that).
void fetch_op::write_next() {
    arm(timeouts().write, error::write_timeout);
    with_stream([this](auto& s) {
        auto done = [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); };
        if (out_count_ == 1)
            net::async_write(s, out_buffers_[0], std::move(done));
        else
            net::async_write(s, out_buffers_, std::move(done));
    });
}

void fetch_op::on_write(error_code ec) {
    if (completed_)
        return;
    if (ec)
        return fail_io(ec, error::write_failed);
    if (!last_piece_)
        return send_next(false);
    close_body_file();
    read_header();
}

void fetch_op::read_header(bool arm_deadline) {
    // Fields are kept only for on_response (redirects are answered with status and Location alone).
    parser_ = std::make_unique<response_parser>(bool(h_.on_response));
    refused_body_ = nullptr;
    parser_->header_limit(limits().max_header_bytes);
    if (limits().max_body_bytes == std::numeric_limits<std::uint64_t>::max())
        parser_->body_limit(boost::none);
    else
        parser_->body_limit(limits().max_body_bytes);
    if (is_head_)
        parser_->skip(true);
    if (arm_deadline)
        arm(timeouts().response_head, error::response_head_timeout);
    normalizer_.begin_head(limits().strict_line_endings, limits().max_header_bytes);
    if (!normalize(0)) // bytes after an interim response
        return;
    read_response(true);
}

/// Feeds the response to parser_ until its head is complete (head) or for one step of its body, as
/// Beast's async_read_header and async_read_some do, then on_header or on_body. Bytes read go through
/// normalizer_ before the parser sees them. Never completes inside the call.
void fetch_op::read_response(bool head) {
    reading_head_ = head;
    if (!head && refused_body_ != nullptr) {
        info_.detail = refused_body_;
        return abort(error::malformed_response);
    }
    if (conn_->buffer.size() == 0)
        return read_more();
    net::post(state_->ex, [self = shared_from_this()] {
        if (!self->completed_)
            self->parse_buffered();
    });
}

void fetch_op::read_more() {
    const std::size_t size = beast::read_size(conn_->buffer, reading_head_ ? 65536 : read_cap_);
    with_stream([this, size](auto& s) {
        s.async_read_some(
            conn_->buffer.prepare(size),
            [self = shared_from_this()](const error_code& e, std::size_t n) { self->on_read(e, n); });
    });
}

void fetch_op::on_read(error_code ec, std::size_t n) {
    if (completed_)
        return;
    const std::size_t before = conn_->buffer.size();
    conn_->buffer.commit(n);
    if (ec == net::error::eof) {
        // As Beast: the end of a message without framing, a partial message, or none at all.
        if (parser_->got_some()) {
            ec = {};
            parser_->put_eof(ec);
        } else {
            ec = bhttp::error::end_of_stream;
        }
        return parsed(ec);
    }
    if (ec)
        return parsed(ec);
    if (!normalize(before))
        return;
    parse_buffered();
}

void fetch_op::parse_buffered() {
    error_code ec;
    const bool had_head = parser_->is_header_done();
    if (!had_head) // the CRs put in count for nothing against the limit
        parser_->header_limit(static_cast<std::uint32_t>(limits().max_header_bytes + normalizer_.inserted()));
    conn_->buffer.consume(parser_->put(conn_->buffer.data(), ec));
    if (!had_head && parser_->is_header_done()) {
        normalizer_.begin_body(parser_->chunked() && !parser_->is_done());
        // A fault in the body bytes that came with the head is reported when the body is read, as it
        // would be had they come later: the head is delivered first either way.
        refused_body_ = normalizer_.process(conn_->buffer, 0);
    }
    if (ec == bhttp::error::need_more)
        return read_more();
    parsed(ec);
}

void fetch_op::parsed(const error_code& ec) {
    if (reading_head_)
        on_header(ec);
    else
        on_body(ec);
}

/// Runs normalizer_ over the buffered bytes from `from` on; false: the response was refused.
bool fetch_op::normalize(std::size_t from) {
    if (const char* why = normalizer_.process(conn_->buffer, from)) {
        info_.detail = why;
        abort(error::malformed_response);
        return false;
    }
    return true;
}

void fetch_op::on_header(const error_code& ec) {
    if (completed_)
        return;
    if (ec)
        return fail_io(ec, error::read_failed);
    const unsigned status = parser_->status();
    if (status / 100 == 1) {
        // Interim responses (100 Continue, 103 Early Hints) precede the final one: skip them, within the
        // same response-head deadline (RFC 9110 15.2). 101 would switch protocols, which we never ask for.
        if (status == 101) {
            info_.detail = "unsolicited 101 Switching Protocols";
            return abort(error::malformed_response);
        }
        return read_header(false);
    }
    // TLS 1.3 session tickets precede the response: this connection has brought what sessions it will
    // (a long body must not hold up the connections waiting for one).
    if (connector_)
        connector_->release_tls_waits();
    info_.time_starttransfer = since_start();
    // A 3xx without Location is the final response, delivered with its body (as curl does).
    redirecting_ = opts().redirects.follow &&
                   (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) &&
                   !parser_->location().empty();
    info_.status = status;
    if (status == 407 && proxy_ && !proxy_->is_socks() && !url_.tls) {
        // Plain http through the proxy: its 407 is about the proxy's credentials, not the origin's.
        info_.detail = "proxy " + proxy_->display() + " answered 407" +
                       (proxy_->has_credentials ? " (the credentials given were refused)"
                                                : " (no proxy credentials given)");
        return abort(error::proxy_auth_required);
    }
    if (status < 100) {
        // Beast takes any three digits ("HTTP/1.1 020 OK"); no status below 100 exists (RFC 9110 15).
        info_.detail = "status " + std::to_string(status);
        return abort(error::malformed_response);
    }
    if (!redirecting_ && h_.on_response) {
        response_head head;
        head.status = status;
        head.version = parser_->version();
        head.reason = parser_->reason();
        head.headers = std::move(parser_->fields());
        h_.on_response(head);
        if (completed_)
            return;
    }
    if (!redirecting_) {
        record_validators();
        if (time_condition_unmet()) {
            if (!parser_->is_done())
                conn_.reset(); // the body is not read: the connection cannot be reused
            return end_of_hop();
        }
    }
    if (parser_->is_done())
        return end_of_hop();
    if (redirecting_) {
        // A redirect's body is not worth reading: drop the connection instead of reusing it.
        conn_.reset();
        return end_of_hop();
    }
    // Beast reads into whatever capacity the buffer has (512 bytes after a small head): give it room for
    // a whole piece, so that each read can fill the chunk buffer rather than trickle into it, but not
    // more than the body still to come (a connection keeps this buffer while it lives).
    if (!start_decoding())
        return;
    std::size_t room = limits().body_chunk_bytes;
    if (const auto remaining = parser_->content_length_remaining())
        room = static_cast<std::size_t>(std::min<std::uint64_t>(room, *remaining));
    conn_->buffer.reserve(room);
    read_body();
}

void fetch_op::read_body() {
    std::size_t room = limits().body_chunk_bytes;
    if (!rate_allows(room))
        return; // waits for its bandwidth budget, then comes back here
    arm(timeouts().idle, error::idle_timeout);
    if (!chunk_)
        chunk_ = state_->take_chunk(limits().body_chunk_bytes);
    body_room_ = room;
    parser_->body_buffer(chunk_.get(), room);
    read_response(false);
}

void fetch_op::on_body(error_code ec) {
    if (completed_)
        return;
    if (ec == bhttp::error::need_buffer)
        ec = {};
    const std::size_t got = body_room_ - parser_->body_room(); // raw bytes, before any decoding
    if (rate_gate_)
        rate_gate_->consume(got);
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(chunk_.get()), got);
    if (decoder_) { // request::decompress: what is delivered is decoded from these bytes
        decoder_->input(bytes);
        return decode_more(ec);
    }
    if (got > 0 && !deliver(bytes, chunk_, ec))
        return;
    after_body(ec);
}

bool fetch_op::deliver(std::span<const std::byte> bytes, const std::shared_ptr<unsigned char[]>& owner,
                       const error_code& ec) {
    info_.body_bytes += bytes.size();
    if (digest_)
        digest_->update(bytes);
    if (h_.on_body_paced) {
        // Back-pressure: no read (and no idle deadline) until the consumer resumes. Nothing else
        // holds the transfer while it waits: it holds itself until resume or completion.
        disarm();
        const auto token = ++pause_token_;
        paused_self_ = shared_from_this();
        // The buffer travels with resume, so the bytes outlive even a transfer that ends first.
        auto resume = [weak = weak_from_this(), buffer = owner, ex = state_->ex, token, ec] {
            net::dispatch(ex, [weak, token, ec] {
                if (auto self = weak.lock())
                    self->resume_body(token, ec);
            });
        };
        h_.on_body_paced(bytes, std::move(resume));
        return false;
    }
    if (h_.on_body)
        h_.on_body(bytes);
    return !completed_;
}

void fetch_op::after_body(const error_code& ec) {
    if (ec)
        return fail_io(ec, error::read_failed);
    if (decoder_ && decoder_->pending())
        return decode_more(ec);
    if (parser_->is_done())
        return decoded_whole() ? end_of_hop() : void();
    read_body();
}

void fetch_op::resume_body(std::uint64_t token, const error_code& ec) {
    if (completed_ || !paused_self_ || token != pause_token_)
        return; // a repeated or late resume
    const auto self = std::move(paused_self_);
    after_body(ec);
}

/// A kept-alive connection may have been closed by the server just as we reused it. Retrying once on a
/// fresh connection is safe only while nothing of the response has arrived, and only for a request the
/// server may receive twice (request::replayable): it may have been received before the close.
/// A body_source has been consumed by the failed attempt and cannot be sent again: no retry then.
bool fetch_op::retry_on_fresh_connection(const error_code& ec) {
    if (!reused_ || retried_stale_ || (parser_ && parser_->got_some()) || req_.body_source)
        return false;
    const bool closed = ec == bhttp::error::end_of_stream || ec == net::error::eof ||
                        ec == ssl::error::stream_truncated || ec == net::error::connection_reset ||
                        ec == net::error::broken_pipe;
    if (!closed)
        return false;
    if (!req_.replayable && !is_idempotent(req_.method)) {
        stale_not_replayed_ = true;
        return false;
    }
    core::log::write(core::log_level::debug,
                     info_.peer + ": kept-alive connection was closed; retrying once");
    retried_stale_ = true;
    force_fresh_ = true;
    conn_.reset();
    parser_.reset();
    if (!try_acquire())
        enqueue();
    return true;
}

void fetch_op::fail_io(const error_code& ec, error fallback) {
    if (retry_on_fresh_connection(ec))
        return;
    const bool got_some = parser_ && parser_->got_some();
    info_.detail = parser_ ? parser_->failure(ec) : ec.message();
    if (stale_not_replayed_)
        info_.detail += " (a kept-alive connection; " + req_.method +
                        " is not sent again unless the request is marked replayable)";
    info_.cause = ec;
    if (ec.category() == http_category()) // refused by the parser (framing, transfer coding)
        return abort(ec);
    if (ec == bhttp::error::header_limit)
        return abort(error::header_too_large);
    if (ec == bhttp::error::body_limit)
        return abort(error::body_too_large);
    if (is_parse_error(ec))
        return abort(error::malformed_response);
    if (parser_ && parser_->status() == 0 && conn_ && !could_be_http(conn_->buffer)) {
        // Beast judges a status line only once it is whole; bytes that cannot start one (an HTTP/0.9-style
        // reply, another protocol) are malformed, whatever ended the connection.
        info_.detail = "not an HTTP/1.x response";
        return abort(error::malformed_response);
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == ssl::error::stream_truncated)
        return abort(got_some ? error::partial_response : error::no_response);
    if (ec == bhttp::error::partial_message)
        return abort(error::partial_response);
    if (ec == net::error::connection_reset || ec == net::error::broken_pipe)
        return abort(error::connection_reset);
    if (ec.category() == net::error::get_ssl_category()) {
        // A TLS 1.3 server reports a missing or refused client certificate after the client's side
        // of the handshake has finished: it arrives here, on the first read.
        const error_code mapped = map_tls_failure(nullptr, ec, info_.detail);
        if (mapped != tls::error::handshake_failed)
            return abort(mapped);
    }
    abort(fallback);
}

/// The response of this hop is complete: keep or close its connection, then finish or follow.
void fetch_op::end_of_hop() {
    disarm();
    if (connector_)
        connector_->release_tls_waits();
    if (conn_) {
        auto c = std::move(conn_);
        // Bytes past the response, in the buffer or still inside OpenSSL (read-ahead: further records, a
        // close_notify), would be taken for the next response: such a connection is never reused.
        if (parser_->keep_alive() && opts().pool.keep_alive && !c->has_unread_bytes())
            state_->release(std::move(c));
        else
            close_gracefully(std::move(c));
    }
    if (redirecting_ && follow_redirect())
        return;
    finish();
}

bool fetch_op::follow_redirect() {
    const std::string& location = parser_->location();
    if (info_.redirects >= opts().redirects.max_redirects) {
        info_.detail = std::to_string(info_.redirects) + " followed";
        abort(error::too_many_redirects);
        return true;
    }
    auto base = urls::parse_uri(redirect_url_.empty() ? req_.url : redirect_url_);
    auto ref = urls::parse_uri_reference(std::string_view(location.data(), location.size()));
    urls::url next;
    if (!base || !ref || !urls::resolve(*base, *ref, next)) {
        info_.detail = "Location: " + std::string(location);
        abort(error::bad_redirect);
        return true;
    }
    next.remove_fragment();
    const auto scheme = next.scheme_id();
    if (scheme != urls::scheme::http && scheme != urls::scheme::https) {
        info_.detail = "Location: " + std::string(next.buffer());
        abort(error::bad_redirect);
        return true;
    }
    if (url_.tls && scheme == urls::scheme::http && !opts().redirects.allow_downgrade) {
        info_.detail = "to " + std::string(next.buffer());
        abort(error::insecure_redirect);
        return true;
    }
    const unsigned status = parser_->status();
    if (status == 303 || ((status == 301 || status == 302) && req_.method == "POST")) {
        if (req_.method != "HEAD")
            req_.method = "GET";
        req_.body.clear();
        req_.body_file.clear();
        req_.body_source = nullptr;
        std::erase_if(req_.headers, [](const auto& h) {
            return beast::iequals(h.first, "content-type") || beast::iequals(h.first, "content-length");
        });
    } else if (req_.body_source) {
        info_.detail = std::to_string(status) + " redirect to " + std::string(next.buffer()) +
                       " needs the body_source body again";
        abort(error::request_body_not_replayable);
        return true;
    }
    ++info_.redirects;
    if (first_origin_.empty())
        first_origin_ = key_; // the first hop's origin (its key: that hop is never anonymous)
    redirect_url_ = std::string(next.buffer());
    core::log::write(core::log_level::info, info_.peer + ": " + std::to_string(status) + " redirect to " +
                                                core::redact_url(redirect_url_));
    parser_.reset();
    redirecting_ = false;
    force_fresh_ = false;
    retried_stale_ = false;
    info_.status = 0;
    begin_hop();
    return true;
}

void fetch_op::finish() {
    if (digest_ && !is_head_) {
        info_.sha256 = digest_->finish();
        if (!digest_->matches(info_.sha256)) {
            info_.detail = "expected sha256 " + digest_->expected_hex() + ", got " + info_.sha256;
            return abort(error::digest_mismatch);
        }
    }
    complete({});
}

/// Ends the transfer with a failure (or cancellation) and drops its connection at once.
void fetch_op::abort(const error_code& ec) {
    complete(ec);
    if (connector_)
        connector_->cancel();
    // Closing makes pending operations complete at once; the connection object itself must outlive
    // them (they use its socket and TLS stream), so it stays until this operation is released.
    if (conn_)
        conn_->close();
}

void fetch_op::complete(const error_code& ec) {
    if (completed_)
        return;
    completed_ = true;
    // Callers hold their own reference: releasing the paused one here never destroys *this under them.
    const auto paused = std::move(paused_self_);
    close_body_file();
    if (connector_)
        connector_->release_tls_waits();
    if (info_.final_url.empty() && first_hop_parsed_)
        info_.final_url = req_.url;
    state_->active.erase(this);
    if (queued_) { // a search of the whole queue: only when it is there
        state_->waiting.remove_if([this](const std::shared_ptr<fetch_op>& p) { return p.get() == this; });
        state_->room_freed();
    }
    ++generation_;
    disarm();
    timer_at_ = std::chrono::steady_clock::time_point::max();
    phase_timer_.cancel();
    total_timer_.cancel();
    if (rate_gate_)
        rate_gate_->cancel();
    if (send_gate_)
        send_gate_->cancel();
    info_.time_total = since_start();
    info_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(info_.time_total);
    if (ec && core::log::enabled(core::log_level::debug))
        core::log::write(core::log_level::debug, core::redact_url(req_.url) + ": " + describe(ec, info_));
    auto slot = net::get_associated_cancellation_slot(handler_);
    if (slot.is_connected())
        slot.clear();
    info_.url = std::move(req_.url); // nothing reads the request's URL after completion
    auto ex = net::get_associated_executor(handler_, state_->ex);
    auto invoke = [h = std::move(handler_), ec, info = std::move(info_)]() mutable {
        std::move(h)(ec, std::move(info));
    };
    // Inside the canceller's call, running the handler could resume and end the caller's own frame
    // (a coroutine owning the signal) under it: post then. From the transfer's own I/O handlers,
    // dispatch saves a trip through the queue.
    if (post_completion_)
        net::post(state_->ex,
                  [ex, invoke = std::move(invoke)]() mutable { net::dispatch(ex, std::move(invoke)); });
    else
        net::dispatch(ex, std::move(invoke));
}

/// Sets the phase deadline; a zero duration leaves the phase unbounded. The timer is touched only when
/// the new deadline is earlier than the one it waits for.
void fetch_op::arm(std::chrono::milliseconds d, error on_expiry) {
    if (d.count() <= 0)
        return disarm();
    deadline_ = std::chrono::steady_clock::now() + d;
    deadline_error_ = on_expiry;
    if (deadline_ < timer_at_)
        wait_deadline();
}

/// No phase deadline; a waiting timer finds nothing to do when it fires.
void fetch_op::disarm() noexcept {
    deadline_ = std::chrono::steady_clock::time_point::max();
}

void fetch_op::wait_deadline() {
    timer_at_ = deadline_;
    const auto generation = ++generation_;
    phase_timer_.expires_at(deadline_); // cancels a wait for a later time
    phase_timer_.async_wait([weak = weak_from_this(), generation](const error_code& ec) {
        auto self = weak.lock();
        if (!self || ec || generation != self->generation_ || self->completed_)
            return;
        self->timer_at_ = std::chrono::steady_clock::time_point::max();
        if (self->deadline_ == std::chrono::steady_clock::time_point::max())
            return; // no phase is bounded now
        if (std::chrono::steady_clock::now() < self->deadline_)
            return self->wait_deadline(); // the phase changed since: wait for its own deadline
        self->abort(self->deadline_error_);
    });
}

template <typename F>
void fetch_op::with_stream(F&& f) {
    if (conn_->tls)
        f(*conn_->tls);
    else
        f(conn_->socket);
}

/// Sends close_notify and waits (briefly) for the server's, as TLS asks; plain TCP just closes.
void fetch_op::close_gracefully(std::shared_ptr<connection> c) {
    if (!c->tls)
        return c->close();
    auto timer = std::make_shared<net::steady_timer>(state_->ex, std::chrono::seconds(1));
    timer->async_wait([c](const error_code& ec) {
        if (!ec)
            c->close();
    });
    auto& stream = *c->tls;
    stream.async_shutdown([c = std::move(c), timer](const error_code&) {
        // stream_truncated here only means the server closed without its close_notify; the response
        // was already complete (a truncated message surfaces as partial_response before this).
        timer->cancel();
        c->close();
    });
}

void start_fetch(const std::shared_ptr<client_state>& state, request req, handlers h, fetch_handler handler) {
    if (wants_retry_op(req)) // retries, ranges and resume: retry_op.cpp
        return start_retry_op(state, std::move(req), std::move(h), std::move(handler));
    start_single_fetch(state, std::move(req), std::move(h), std::move(handler));
}

void start_single_fetch(const std::shared_ptr<client_state>& state, request req, handlers h,
                        fetch_handler handler) {
    fetch_op::start(std::allocate_shared<fetch_op>(op_allocator<fetch_op>(state->ops), state, std::move(req),
                                                   std::move(h), std::move(handler)));
}

} // namespace detail

namespace {

client_options checked(client_options opts) {
    if (opts.limits.body_chunk_bytes == 0) // nothing could be read or sent: transfers would spin
        throw std::invalid_argument("edgeloop::http::client: limits::body_chunk_bytes must not be 0");
    return opts;
}

} // namespace

client::client(net::any_io_executor ex, client_options opts)
    : state_(std::make_shared<detail::client_state>(std::move(ex), checked(std::move(opts)))) {
    if (!state_->opts.rate_limit) // set_rate_limit changes this one: transfers running see it
        state_->opts.rate_limit.set(0);
}

client::client(net::any_io_executor ex, tls::context tls, client_options opts)
    : client(std::move(ex), std::move(opts)) {
    state_->tls.emplace(std::move(tls));
    state_->enable_session_callbacks(*state_->tls);
}

client::~client() {
    cancel_all();
}

client::executor_type client::get_executor() const noexcept {
    return state_->ex;
}

const client_options& client::options() const noexcept {
    return state_->opts;
}

void client::cancel_all() {
    ++state_->cancel_epoch;
    // cancel() completes the operation and removes it from the set; keep each alive while it does.
    std::vector<std::shared_ptr<detail::fetch_op>> ops;
    for (auto* op : state_->active)
        if (auto p = op->weak_from_this().lock())
            ops.push_back(std::move(p));
    for (auto& op : ops)
        op->cancel();
    std::vector<std::shared_ptr<detail::retry_op>> retrying;
    for (auto* op : state_->retrying)
        if (auto p = op->weak_from_this().lock())
            retrying.push_back(std::move(p));
    for (auto& op : retrying)
        op->cancel();
    state_->close_idle();
}

void client::set_rate_limit(std::uint64_t bytes_per_second) {
    state_->opts.rate_limit.set(bytes_per_second);
}

std::size_t client::active() const noexcept {
    return state_->active.size();
}

std::size_t client::idle_connections() const noexcept {
    return state_->idle.size();
}

std::size_t client::open_connections() const noexcept {
    return state_->open_total;
}

std::size_t client::cached_tls_sessions() const noexcept {
    return state_->sessions.size();
}

} // namespace edgeloop::http
