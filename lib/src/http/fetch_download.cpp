// What fetch_op does for downloads (request::decompress, the conditional request fields): kept out of
// client.cpp, which calls in at four places (the request head, the response head, a body piece, the
// end of the body).

#include "fetch_op.hpp"

#include <edgeloop/http/date.hpp>

#include <boost/beast/core/string.hpp>

#include <limits>
#include <new>

namespace edgeloop::http::detail {

namespace {

bool has_field(const header_list& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (boost::beast::iequals(n, name))
            return true;
    return false;
}

} // namespace

void append_download_fields(std::string& head, const request& req) {
    // A caller's own field of the same name wins (it was written with the others).
    const auto add = [&](std::string_view name, const std::string& value) {
        if (!has_field(req.headers, name))
            head.append(name).append(": ").append(value).append("\r\n");
    };
    if (req.decompress)
        add("Accept-Encoding", "gzip, deflate");
    if (!req.if_none_match.empty())
        add("If-None-Match", req.if_none_match);
    if (req.if_modified_since)
        add("If-Modified-Since", format_http_date(*req.if_modified_since));
    if (req.if_unmodified_since)
        add("If-Unmodified-Since", format_http_date(*req.if_unmodified_since));
}

void fetch_op::record_validators() {
    info_.etag = parser_->etag();
    info_.last_modified = parser_->last_modified();
    info_.not_modified = parser_->status() == 304;
}

bool fetch_op::time_condition_unmet() {
    // As curl (http.c, "Simulate an HTTP 304 response"): a server that does not do If-Modified-Since
    // answers 200 with the Last-Modified it has. When that is not newer than the time asked about, the
    // body is not wanted: the transfer ends as a 304 would, without reading it. Not for a range (a
    // resumed body goes on whatever its date), nor without a readable Last-Modified.
    if (!req_.if_modified_since || parser_->status() != 200 || req_.range || info_.last_modified.empty())
        return false;
    const auto last_modified = parse_http_date(info_.last_modified);
    // The field went out in whole seconds: compare with what was sent.
    if (!last_modified || *last_modified > std::chrono::floor<std::chrono::seconds>(*req_.if_modified_since))
        return false;
    info_.not_modified = true;
    info_.detail = "200 with Last-Modified " + info_.last_modified +
                   ", not newer than If-Modified-Since: taken as 304 Not Modified, the body not read";
    return true;
}

bool fetch_op::start_decoding() {
    decoder_.reset();
    decoded_bytes_ = 0;
    info_.content_encoding.clear();
    if (!req_.decompress)
        return true;
    const auto& field = parser_->content_encoding();
    const auto wanted = content_decoder::select(field);
    if (!wanted.supported) {
        info_.detail = "Content-Encoding: " + field;
        abort(error::unsupported_content_encoding);
        return false;
    }
    if (!wanted.decode)
        return true;
    decoder_ = std::make_unique<content_decoder>(*wanted.decode);
    info_.content_encoding = content_decoder::name(*wanted.decode);
    if (!decoded_)
        decoded_ = std::shared_ptr<unsigned char[]>(new unsigned char[limits().body_chunk_bytes]);
    return true;
}

void fetch_op::decode_more(const error_code& ec) {
    const std::uint64_t max = limits().max_body_bytes;
    for (;;) {
        // Room for one byte past the limit at most: a bomb is detected without decoding further.
        std::size_t room = limits().body_chunk_bytes;
        if (max != std::numeric_limits<std::uint64_t>::max())
            room = static_cast<std::size_t>(std::min<std::uint64_t>(room, max - decoded_bytes_ + 1));
        std::string why;
        const std::size_t n =
            decoder_->decode(std::span<std::byte>(reinterpret_cast<std::byte*>(decoded_.get()), room), why);
        if (!why.empty()) {
            info_.detail = std::move(why);
            return abort(error::bad_content_encoding);
        }
        decoded_bytes_ += n;
        if (decoded_bytes_ > max) {
            info_.detail = "decoded (" + std::string(content_decoder::name(decoder_->which())) +
                           ") body over the limit of " + std::to_string(max) + " bytes";
            return abort(error::body_too_large);
        }
        if (n == 0)
            break; // the raw bytes are used up
        if (!deliver(std::span<const std::byte>(reinterpret_cast<const std::byte*>(decoded_.get()), n),
                     decoded_, ec))
            return; // completed, or on_body_paced holds the piece: its resume comes back here
    }
    after_body(ec);
}

bool fetch_op::decoded_whole() {
    if (!decoder_ || decoder_->whole())
        return true;
    info_.detail = std::string(content_decoder::name(decoder_->which())) +
                   ": the stream is truncated (the body ended before it did)";
    abort(error::bad_content_encoding);
    return false;
}

} // namespace edgeloop::http::detail
