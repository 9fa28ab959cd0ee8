#pragma once

// Private to lib/src/http: the Content-Encoding decoder of a response body (request::decompress), on
// zlib (Debian zlib1g-dev). Sans-io: the transfer hands it the raw body pieces as they arrive and takes
// decoded pieces out, as large as it gives room for, so that a decompression bomb is never decoded
// beyond the room the body limit leaves.
//
// Why zlib and not Beast's own boost/beast/zlib: in Boost 1.81 beast::zlib::inflate_stream is a raw
// deflate decoder only (made for websocket permessage-deflate): its HEAD state goes straight to the
// first deflate block (detail/inflate_stream.ipp, "case HEAD: mode_ = TYPEDO"), and its CHECK state
// goes to DONE without reading anything, so it neither parses a gzip or zlib header nor checks a
// CRC-32 or Adler-32 trailer. A corrupt gzip body would pass unnoticed; zlib checks both.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace edgeloop::http::detail {

class content_decoder {
public:
    enum class coding { gzip, deflate };

    /// What a Content-Encoding field value asks for.
    struct selection {
        bool supported = true;        ///< false: a coding we do not decode (or more than one)
        std::optional<coding> decode; ///< nullopt: nothing to decode (absent, identity)
    };
    static selection select(std::string_view content_encoding);
    static const char* name(coding c) noexcept { return c == coding::gzip ? "gzip" : "deflate"; }

    /// Throws std::bad_alloc when zlib cannot allocate its state.
    explicit content_decoder(coding c);
    ~content_decoder();
    content_decoder(const content_decoder&) = delete;
    content_decoder& operator=(const content_decoder&) = delete;

    /// The next raw body bytes; they must stay valid while pending() is true.
    void input(std::span<const std::byte> raw);
    /// Input is left to decode, or decoded output may be waiting for room.
    bool pending() const noexcept { return pending_; }
    /// Decodes into `out`: the number of bytes written there. On a corrupt stream, `error` is set
    /// (encoding and zlib's reason) and nothing more is decoded.
    std::size_t decode(std::span<std::byte> out, std::string& error);
    /// At the end of the body: true when the stream ended properly (or no byte of it ever came).
    bool whole() const noexcept { return done_ || (raw_total_ == 0); }
    coding which() const noexcept { return coding_; }

private:
    bool start(int window_bits);
    /// After the end of a stream, with input left: starts the next gzip member, or sets `error`.
    bool next_member(std::string& error);

    coding coding_;
    z_stream z_{};
    bool initialised_ = false;
    bool done_ = false;    ///< the end of a stream (of the last gzip member so far) was decoded
    unsigned members_ = 1; ///< gzip members started
    bool pending_ = false;
    bool output_held_ = false; ///< the last inflate filled its output: more may be waiting in zlib
    std::uint64_t raw_total_ = 0;
    std::uint64_t decoded_total_ = 0;
    /// deflate: the first two bytes tell a zlib header from raw deflate; they are kept here until both
    /// have come, then decoded before the rest of `rest_`.
    unsigned char probe_[2] = {};
    std::size_t probe_size_ = 0;
    std::span<const std::byte> rest_;
};

} // namespace edgeloop::http::detail
