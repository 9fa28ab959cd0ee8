#pragma once

#include <edgeloop/net/ip_family.hpp>
#include <edgeloop/net/resolver_options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::net {

/// What a lookup found.
struct resolve_answer {
    std::vector<boost::asio::ip::address> addresses; ///< IPv6 and IPv4, in the resolver's order
    bool from_cache = false;
    std::string detail; ///< on failure: c-ares's words
};

/// Name resolution that never stalls the event loop or other lookups: c-ares (as curl) with its sockets
/// and timers on the executor, /etc/hosts first, then DNS (A and AAAA). A lookup that hangs holds nothing
/// but its own query. Answers are cached for resolver_options::cache_ttl. The configuration is read
/// again when /etc/resolv.conf changes. Not thread-safe: use it from its executor (one strand).
class resolver {
public:
    using signature = void(boost::system::error_code, resolve_answer);

    /// Throws std::invalid_argument for a malformed server, std::runtime_error when c-ares cannot start.
    explicit resolver(boost::asio::any_io_executor ex, resolver_options options = {});
    ~resolver();
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    /// Looks `host` up. Completes (never inside this call) with the addresses, or with
    /// boost::asio::error::host_not_found (no such name, or no address), or another error of the
    /// netdb categories (server failure or refusal: host_not_found_try_again; c-ares gave up:
    /// boost::asio::error::timed_out), the words in resolve_answer::detail. Handler: void(error_code,
    /// resolve_answer). No cancellation: a caller that gives up ignores the completion (the query ends by
    /// c-ares's own timeouts). Lookups still pending when the resolver is destroyed are abandoned: their
    /// handlers are destroyed uncalled.
    template <typename Token>
    auto async_resolve(std::string_view host, Token&& token) {
        return boost::asio::async_initiate<Token, signature>(
            [this](auto handler, std::string name) { initiate(std::move(name), std::move(handler)); }, token,
            std::string(host));
    }

    /// DNS lookups started (cache answers not counted).
    std::size_t lookups() const noexcept;
    /// Times the configuration was read again after /etc/resolv.conf changed.
    std::size_t reloads() const noexcept;

    struct impl;

private:
    void initiate(std::string host, boost::asio::any_completion_handler<signature> handler);
    std::shared_ptr<impl> impl_;
};

} // namespace edgeloop::net
