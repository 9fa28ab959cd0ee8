#pragma once

// Private to lib/src/http: an HTTP/1 response parser that keeps only what the client uses.
//
// beast::http::response_parser stores every header field in a basic_fields (one allocation and an
// ordered-set insertion per field) even when nobody looks at them. This parser keeps the status line,
// the Location value, and the fields only when asked to (for on_response). Body bytes are copied into
// a caller-provided buffer exactly as beast::http::buffer_body does: when the buffer is full, parsing
// stops with error::need_buffer until the caller provides room again.

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <edgeloop/http/error.hpp>
#include <edgeloop/http/request.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::http::detail {

class response_parser final : public boost::beast::http::basic_parser<false> {
public:
    using error_code = boost::system::error_code;
    using string_view = boost::beast::string_view;

    /// keep_fields: store every header field (name as received) for on_response.
    explicit response_parser(bool keep_fields)
        : keep_fields_(keep_fields) {}

    /// 0 until a status line has been parsed.
    unsigned status() const noexcept { return status_; }
    unsigned version() const noexcept { return version_; }
    const std::string& reason() const noexcept { return reason_; }
    /// The first Location field, empty when none.
    const std::string& location() const noexcept { return location_; }
    /// Content-Encoding (every value joined with ", "), the first ETag and Last-Modified; empty when absent.
    const std::string& content_encoding() const noexcept { return content_encoding_; }
    const std::string& etag() const noexcept { return etag_; }
    const std::string& last_modified() const noexcept { return last_modified_; }
    /// Every field in order, only when constructed with keep_fields.
    header_list& fields() noexcept { return fields_; }
    /// The words for transfer_info::detail about a failure of this parser (ec: what put() reported).
    std::string failure(const error_code& ec) const {
        if (!failure_.empty())
            return failure_;
        // Beast refuses the second of the two fields itself (bad_content_length when chunked came first,
        // bad_transfer_encoding when Content-Length did): the same words for either order.
        if ((ec == boost::beast::http::error::bad_transfer_encoding && seen_content_length_) ||
            (ec == boost::beast::http::error::bad_content_length && !codings_.empty()))
            return both_framings;
        return ec.message();
    }

    /// Where the next body bytes go, and how much room is left there (buffer_body's data and size).
    void body_buffer(unsigned char* data, std::size_t size) noexcept {
        body_data_ = data;
        body_size_ = size;
    }
    std::size_t body_room() const noexcept { return body_size_; }

private:
    void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code&) override {}

    void on_response_impl(int code, string_view reason, int version, error_code&) override {
        status_ = static_cast<unsigned>(code);
        version_ = static_cast<unsigned>(version);
        reason_.assign(reason.data(), reason.size());
    }

    void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                       error_code&) override {
        if (name == boost::beast::http::field::location && !seen_location_) {
            seen_location_ = true;
            location_.assign(value.data(), value.size());
        } else if (name == boost::beast::http::field::transfer_encoding) {
            if (!codings_.empty())
                codings_ += ", ";
            codings_.append(value.data(), value.size());
            seen_transfer_encoding_ = true;
        } else if (name == boost::beast::http::field::content_length) {
            seen_content_length_ = true;
        } else if (name == boost::beast::http::field::content_encoding) {
            if (!content_encoding_.empty())
                content_encoding_ += ", ";
            content_encoding_.append(value.data(), value.size());
        } else if (name == boost::beast::http::field::etag && etag_.empty()) {
            etag_.assign(value.data(), value.size());
        } else if (name == boost::beast::http::field::last_modified && last_modified_.empty()) {
            last_modified_.assign(value.data(), value.size());
        }
        if (keep_fields_)
            fields_.emplace_back(std::string(name_string), std::string(value));
    }

    /// Beast frames a response with both fields by Content-Length when chunked is not the last coding
    /// (and refuses it otherwise), and delivers the still-encoded bytes of any coding but chunked as the
    /// body. RFC 9112 6.3: both fields are an error (a pooled connection would fall out of step); the
    /// only transfer coding we decode is chunked.
    void on_header_impl(error_code& ec) override {
        if (!seen_transfer_encoding_)
            return;
        if (seen_content_length_) {
            failure_ = both_framings;
            ec = error::malformed_response;
        } else if (!only_chunked(codings_)) {
            failure_ = "Transfer-Encoding: " + codings_;
            ec = error::unsupported_transfer_coding;
        }
    }

    /// True when the coding list (RFC 9110 5.6.1, empty elements ignored) is exactly "chunked".
    static bool only_chunked(std::string_view list) {
        std::size_t seen = 0;
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
                item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
                item.remove_suffix(1);
            if (item.empty())
                continue;
            if (++seen > 1 || !boost::beast::iequals(item, "chunked"))
                return false;
        }
        return seen == 1;
    }
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}

    std::size_t on_body_impl(string_view body, error_code& ec) override { return store(body, ec); }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
        return store(body, ec);
    }

    void on_finish_impl(error_code&) override {}

    std::size_t store(string_view body, error_code& ec) {
        if (body_data_ == nullptr) {
            ec = boost::beast::http::error::need_buffer;
            return 0;
        }
        const std::size_t n = std::min(body_size_, body.size());
        if (n != 0)
            std::memcpy(body_data_, body.data(), n);
        body_data_ += n;
        body_size_ -= n;
        if (n != body.size())
            ec = boost::beast::http::error::need_buffer;
        return n;
    }

    static constexpr const char* both_framings = "both Transfer-Encoding and Content-Length";

    bool keep_fields_;
    bool seen_location_ = false;
    bool seen_transfer_encoding_ = false;
    bool seen_content_length_ = false;
    std::string codings_; ///< every Transfer-Encoding value, joined with ", "
    std::string failure_; ///< set with the error on_header_impl reports
    unsigned status_ = 0;
    unsigned version_ = 11;
    std::string reason_;
    std::string location_;
    std::string content_encoding_;
    std::string etag_;
    std::string last_modified_;
    header_list fields_;
    unsigned char* body_data_ = nullptr;
    std::size_t body_size_ = 0;
};

/// RFC 9112 2.2 lets a recipient take a bare LF for CRLF in the start line and the fields; many servers
/// end them so (curl's canned replies do), and Beast's parser wants CRLF. This rewrites the line ends of
/// a response head and of a chunked body's trailer section to CRLF in the buffer, before the parser sees
/// the bytes, as they arrive: the outcome never depends on how TCP cut them. Chunk-size lines stay
/// CRLF-only (RFC 9112 7.1). What the parser would otherwise judge only once a CRLF CRLF came (or never)
/// is refused as soon as it is seen: a bare CR, NUL, obs-fold (a field line starting with SP or HT), a
/// chunk-size line ended by a bare LF, and in strict mode any bare LF in a head or trailer section.
class line_normalizer {
public:
    /// The next bytes begin a response head. Bytes past `limit` of a head are left to the parser
    /// (which reports header_limit).
    void begin_head(bool strict, std::size_t limit) noexcept {
        mode_ = mode::head;
        strict_ = strict;
        limit_ = limit;
        scanned_ = 0;
        inserted_ = 0;
        start_line();
        lines_ = 0;
    }
    /// The head has been parsed; the bytes that follow are its body (chunked: framed in chunks).
    void begin_body(bool chunked) noexcept {
        mode_ = chunked ? mode::chunk_size : mode::off;
        start_line();
    }
    /// CRs added to the current head (the parser's header limit is raised by as much).
    std::size_t inserted() const noexcept { return inserted_; }

    /// Processes the buffer's bytes from offset `from` on, in place (CRs inserted). Returns nullptr, or
    /// why the response is malformed.
    const char* process(boost::beast::flat_buffer& b, std::size_t from) {
        const char* why = nullptr;
        lf_at_.clear();
        {
            const auto* p = static_cast<const char*>(b.data().data());
            const std::size_t n = b.size();
            for (std::size_t i = from; i < n && mode_ != mode::off && mode_ != mode::paused && !why;) {
                if (mode_ == mode::chunk_data) { // skipped whole: only the framing is looked at
                    const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size_, n - i));
                    i += skip;
                    chunk_size_ -= skip;
                    if (chunk_size_ == 0) {
                        mode_ = mode::chunk_crlf;
                        line_len_ = 0;
                    }
                    continue;
                }
                why = step(p[i], i);
                ++i;
            }
        }
        if (!lf_at_.empty())
            insert_crs(b);
        return why;
    }

private:
    enum class mode { off, head, paused, chunk_size, chunk_ext, chunk_data, chunk_crlf, trailer };

    void start_line() noexcept {
        line_len_ = 0;
        after_cr_ = false;
        chunk_size_ = 0;
        digits_ = 0;
    }

    const char* step(char c, std::size_t at) {
        switch (mode_) {
        case mode::head:
        case mode::trailer:
            if (mode_ == mode::head && ++scanned_ > limit_) {
                mode_ = mode::off;
                return nullptr;
            }
            if (after_cr_) {
                if (c != '\n')
                    return "bare CR in the response head";
                return end_of_field_line();
            }
            if (c == '\r') {
                after_cr_ = true;
                return nullptr;
            }
            if (c == '\n') {
                if (strict_)
                    return "bare LF line end in the response head";
                lf_at_.push_back(at);
                return end_of_field_line();
            }
            if (c == '\0')
                return "NUL in the response head";
            if (line_len_ == 0 && (c == ' ' || c == '\t') && (lines_ > 0 || mode_ == mode::trailer))
                return "obs-fold (a field line starting with whitespace) in the response head";
            ++line_len_;
            return nullptr;
        case mode::chunk_size:
        case mode::chunk_ext:
            if (after_cr_) {
                if (c != '\n') {
                    mode_ = mode::off; // the parser refuses it
                    return nullptr;
                }
                return end_of_chunk_line();
            }
            if (c == '\r') {
                after_cr_ = true;
                return nullptr;
            }
            if (c == '\n')
                return "chunk-size line ended by a bare LF";
            if (mode_ == mode::chunk_size) {
                const int digit = hex(c);
                if (digit >= 0 && digits_ < 16) {
                    chunk_size_ = chunk_size_ * 16 + static_cast<std::uint64_t>(digit);
                    ++digits_;
                } else if (digits_ > 0 && (c == ';' || c == ' ' || c == '\t')) {
                    mode_ = mode::chunk_ext;
                } else {
                    mode_ = mode::off; // not a chunk size (or one that overflows): the parser refuses it
                }
            }
            return nullptr;
        case mode::chunk_crlf:
            if (c != (line_len_ == 0 ? '\r' : '\n')) {
                mode_ = mode::off; // the parser refuses it
                return nullptr;
            }
            if (++line_len_ == 2) {
                mode_ = mode::chunk_size;
                start_line();
            }
            return nullptr;
        case mode::off:
        case mode::paused:
        case mode::chunk_data: // process() skips data in bulk
            break;
        }
        return nullptr;
    }

    /// A line of a head or trailer section ended; an empty one ends the section.
    const char* end_of_field_line() noexcept {
        const bool empty = line_len_ == 0;
        ++lines_;
        start_line();
        if (empty)
            mode_ = mode_ == mode::head ? mode::paused : mode::off; // the body: once the head is parsed
        return nullptr;
    }

    const char* end_of_chunk_line() noexcept {
        if (digits_ == 0) {
            mode_ = mode::off; // the parser refuses it
            return nullptr;
        }
        if (chunk_size_ == 0) {
            mode_ = mode::trailer;
            lines_ = 0;
            start_line();
            return nullptr;
        }
        const auto size = chunk_size_;
        start_line();
        chunk_size_ = size;
        mode_ = mode::chunk_data;
        return nullptr;
    }

    static int hex(char c) noexcept {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }

    /// Puts a CR before each LF recorded in lf_at_, moving the bytes after it up.
    void insert_crs(boost::beast::flat_buffer& b) {
        const std::size_t k = lf_at_.size();
        std::size_t end = b.size();
        b.prepare(k); // contiguous after the readable bytes (flat_buffer), which may move
        b.commit(k);
        auto* d = static_cast<char*>(b.data().data());
        for (std::size_t j = k; j-- > 0;) {
            const std::size_t at = lf_at_[j];
            std::memmove(d + at + j + 1, d + at, end - at);
            d[at + j] = '\r';
            end = at;
        }
        inserted_ += k;
        lf_at_.clear();
    }

    mode mode_ = mode::off;
    bool strict_ = false;
    bool after_cr_ = false;
    std::size_t limit_ = 0;
    std::size_t scanned_ = 0;
    std::size_t inserted_ = 0;
    std::size_t line_len_ = 0;
    std::size_t lines_ = 0;
    std::uint64_t chunk_size_ = 0;
    unsigned digits_ = 0;
    std::vector<std::size_t> lf_at_; ///< offsets (in the buffer) of bare LFs found by one process()
};

} // namespace edgeloop::http::detail
