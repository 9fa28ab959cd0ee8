#include "digest.hpp"

#include <new>

namespace edgeloop::http::detail {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char b : bytes) {
        const auto v = static_cast<unsigned char>(b);
        out += digits[v >> 4];
        out += digits[v & 0x0f];
    }
    return out;
}

std::optional<std::string> body_digest::parse_hex(std::string_view hex) {
    if (hex.size() != 64)
        return std::nullopt;
    std::string out(32, '\0');
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out[i] = static_cast<char>(hi * 16 + lo);
    }
    return out;
}

body_digest::body_digest(std::string expected)
    : ctx_(EVP_MD_CTX_new())
    , expected_(std::move(expected)) {
    if (!ctx_)
        throw std::bad_alloc();
    reset();
}

void body_digest::reset() {
    if (EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
        throw std::bad_alloc();
}

void body_digest::update(std::span<const std::byte> bytes) {
    if (!bytes.empty())
        EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
}

std::string body_digest::finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    return to_hex(std::string_view(reinterpret_cast<const char*>(md), n));
}

std::string body_digest::expected_hex() const {
    return to_hex(expected_);
}

} // namespace edgeloop::http::detail
