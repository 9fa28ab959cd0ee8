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

#include <edgeloop/http/request.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

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
    /// Every field in order, only when constructed with keep_fields.
    header_list& fields() noexcept { return fields_; }

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
        }
        if (keep_fields_)
            fields_.emplace_back(std::string(name_string), std::string(value));
    }

    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}

    std::size_t on_body_impl(string_view body, error_code& ec) override { return put(body, ec); }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
        return put(body, ec);
    }

    void on_finish_impl(error_code&) override {}

    std::size_t put(string_view body, error_code& ec) {
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

    bool keep_fields_;
    bool seen_location_ = false;
    unsigned status_ = 0;
    unsigned version_ = 11;
    std::string reason_;
    std::string location_;
    header_list fields_;
    unsigned char* body_data_ = nullptr;
    std::size_t body_size_ = 0;
};

} // namespace edgeloop::http::detail
