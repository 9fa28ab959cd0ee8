#pragma once

// Private to lib/src/http: the SHA-256 of a response body, computed through OpenSSL's EVP as the bytes
// arrive (request::expected_sha256).

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace edgeloop::http::detail {

class body_digest {
public:
    /// The expected digest as 32 bytes, or nullopt when `hex` is not 64 hexadecimal digits.
    static std::optional<std::string> parse_hex(std::string_view hex);

    /// Throws std::bad_alloc when OpenSSL cannot make a context.
    explicit body_digest(std::string expected);

    /// Starts over (a body restarted from its first byte).
    void reset();
    void update(std::span<const std::byte> bytes);
    /// Ends the digest: the lower-case hex digest of the bytes given. Call once (reset() to start over).
    std::string finish();
    /// The expected digest, lower-case hex.
    std::string expected_hex() const;
    /// True when finish()'s digest is the expected one.
    bool matches(std::string_view got_hex) const { return got_hex == expected_hex(); }

private:
    struct ctx_free {
        void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, ctx_free> ctx_;
    std::string expected_; ///< 32 bytes
};

/// Lower-case hex of `bytes`.
std::string to_hex(std::string_view bytes);

} // namespace edgeloop::http::detail
