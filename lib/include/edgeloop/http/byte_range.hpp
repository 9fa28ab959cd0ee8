#pragma once

#include <cstdint>
#include <optional>

namespace edgeloop::http {

/// A byte range of the response body (request::range): `Range: bytes=first-` or `bytes=first-last`
/// (RFC 9110 14.1.2; both ends inclusive, counted from 0).
struct byte_range {
    std::uint64_t first = 0;
    /// The last byte wanted (inclusive); empty: to the end of the resource.
    std::optional<std::uint64_t> last;
};

} // namespace edgeloop::http
