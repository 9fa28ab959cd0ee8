#include "content_decoder.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <limits>
#include <new>

namespace edgeloop::http::detail {

namespace {

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// RFC 1950 2.2: CM 8, CINFO <= 7, and the two bytes a multiple of 31.
bool is_zlib_header(unsigned char cmf, unsigned char flg) {
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

} // namespace

content_decoder::selection content_decoder::select(std::string_view list) {
    selection s;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = trimmed(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (item.empty() || boost::beast::iequals(item, "identity"))
            continue;
        std::optional<coding> c;
        if (boost::beast::iequals(item, "gzip") || boost::beast::iequals(item, "x-gzip"))
            c = coding::gzip;
        else if (boost::beast::iequals(item, "deflate"))
            c = coding::deflate;
        if (!c || s.decode) // unknown, or a second coding (one decoding step only)
            return {false, std::nullopt};
        s.decode = c;
    }
    return s;
}

content_decoder::content_decoder(coding c)
    : coding_(c) {
    if (c == coding::gzip) {
        // 32: a gzip or a zlib header, whichever comes (as curl reads gzip).
        if (!start(MAX_WBITS + 32))
            throw std::bad_alloc();
    }
}

content_decoder::~content_decoder() {
    if (initialised_)
        inflateEnd(&z_);
}

bool content_decoder::start(int window_bits) {
    if (inflateInit2(&z_, window_bits) != Z_OK)
        return false;
    initialised_ = true;
    return true;
}

void content_decoder::input(std::span<const std::byte> raw) {
    raw_total_ += raw.size();
    if (raw.empty()) {
        pending_ = false;
        return;
    }
    if (!initialised_) { // deflate: wait for the two bytes that tell zlib-wrapped from raw
        while (probe_size_ < 2 && !raw.empty()) {
            probe_[probe_size_++] = static_cast<unsigned char>(raw.front());
            raw = raw.subspan(1);
        }
        if (probe_size_ < 2) {
            pending_ = false;
            return;
        }
        // As curl: deflate is meant to be zlib-wrapped (RFC 9110 8.4.1.2), but some servers send raw
        // deflate; a stream that does not start with a zlib header is taken as raw.
        if (!start(is_zlib_header(probe_[0], probe_[1]) ? MAX_WBITS : -MAX_WBITS))
            throw std::bad_alloc();
        z_.next_in = probe_;
        z_.avail_in = 2;
        rest_ = raw;
        pending_ = true;
        return;
    }
    rest_ = raw;
    pending_ = true;
}

bool content_decoder::next_member(std::string& error) {
    // RFC 1952 2.2: a gzip file is a series of members, each with its own header and CRC (gzip -d and
    // zlib's gzread decode them all). Anything else after the end is refused, as curl refuses it: it
    // would be bytes no decoder vouched for, spliced onto a checked body.
    if (coding_ == coding::gzip && *z_.next_in == 0x1f) {
        if (inflateReset(&z_) != Z_OK) {
            error = "gzip: cannot start the next member";
            pending_ = false;
            return false;
        }
        done_ = false;
        ++members_;
        return true;
    }
    error = std::string(name(coding_)) + ": data after the end of the stream (after " +
            std::to_string(decoded_total_) + " decoded bytes" +
            (members_ > 1 ? " in " + std::to_string(members_) + " gzip members" : std::string()) + ")";
    pending_ = false;
    return false;
}

std::size_t content_decoder::decode(std::span<std::byte> out, std::string& error) {
    std::size_t produced = 0;
    while (pending_ && produced < out.size()) {
        if (z_.avail_in == 0 && !rest_.empty()) {
            const auto n = std::min<std::size_t>(rest_.size(), std::numeric_limits<uInt>::max());
            // zlib's next_in is not const unless ZLIB_CONST: it never writes through it.
            z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(rest_.data()));
            z_.avail_in = static_cast<uInt>(n);
            rest_ = rest_.subspan(n);
        }
        if (done_) { // a stream has ended: only another gzip member may follow it
            if (z_.avail_in == 0) {
                pending_ = false;
                break;
            }
            if (!next_member(error))
                return produced;
        }
        if (z_.avail_in == 0 && !output_held_) {
            pending_ = false;
            break;
        }
        const auto room = std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
        z_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
        z_.avail_out = static_cast<uInt>(room);
        const int rc = inflate(&z_, Z_NO_FLUSH);
        const std::size_t made = room - z_.avail_out;
        produced += made;
        decoded_total_ += made;
        // A full output buffer may leave decoded bytes inside zlib (the rest of a match): ask again
        // even without new input.
        output_held_ = z_.avail_out == 0;
        if (rc == Z_STREAM_END) {
            done_ = true; // more input: the top of the loop looks at what follows
            output_held_ = false;
            continue;
        }
        if (rc == Z_BUF_ERROR) { // no progress was possible: nothing was held, no input is left
            output_held_ = false;
            if (made == 0 || (z_.avail_in == 0 && rest_.empty())) {
                pending_ = false; // (made == 0 with input left would break zlib's contract: never spin)
                break;
            }
            continue;
        }
        if (rc != Z_OK) {
            error = std::string(name(coding_)) + ": " +
                    (z_.msg != nullptr   ? z_.msg
                     : rc == Z_MEM_ERROR ? "out of memory"
                                         : "corrupt stream");
            pending_ = false;
            return produced;
        }
    }
    return produced;
}

} // namespace edgeloop::http::detail
