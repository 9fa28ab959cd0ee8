#pragma once

#include <edgeloop/tls/error.hpp>
#include <edgeloop/tls/options.hpp>

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace edgeloop::tls {

/// A client TLS context built once from options and shared by every connection made with it (files are
/// read once, here, never per connection). Copies share the same underlying ssl::context.
class context {
public:
    /// Builds the context. Throws config_error naming the file and the reason for any bad input
    /// (missing, unreadable, not PEM, wrong passphrase, key not matching the certificate, ...).
    explicit context(options opts);

    boost::asio::ssl::context& native() const noexcept { return *ctx_; }
    const options& opts() const noexcept { return *opts_; }
    /// True when the context presents a client identity: a certificate or private key, from options or
    /// installed through native() (an engine's or provider's key too), or a client certificate callback.
    /// Judged when called, so what was installed after construction counts.
    bool has_client_identity() const noexcept;
    /// notAfter of the client certificate given in the options (leaf), or nullopt without one.
    std::optional<std::chrono::system_clock::time_point> client_certificate_expiry() const noexcept {
        return expiry_;
    }
    /// Common Name of the client certificate's subject (leaf), or empty without one (or without a CN).
    const std::string& client_certificate_cn() const noexcept { return *cn_; }
    /// Same as has_client_identity().
    bool has_client_certificate() const noexcept { return has_client_identity(); }

private:
    std::shared_ptr<boost::asio::ssl::context> ctx_;
    std::shared_ptr<const options> opts_;
    std::optional<std::chrono::system_clock::time_point> expiry_;
    std::shared_ptr<const std::string> cn_;
};

} // namespace edgeloop::tls
