#pragma once

#include <edgeloop/aws/credentials_cache.hpp>
#include <edgeloop/aws/credentials_request.hpp>
#include <edgeloop/aws/credentials_response.hpp>
#include <edgeloop/aws/signing_credentials.hpp>
#include <edgeloop/core/asio_config.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace edgeloop::http {
class client;
}

namespace edgeloop::aws {

namespace detail {
struct provider_state;
using credentials_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, signing_credentials)>;
void start_get_credentials(const std::shared_ptr<provider_state>& state, credentials_handler handler);
} // namespace detail

/// Temporary AWS credentials from the AWS IoT credentials provider, fetched through an http::client
/// whose tls::context carries the device's client certificate (mutual TLS), cached in a
/// credentials_cache and fetched again, on the client's executor, by the first caller that finds them
/// stale (callers that ask meanwhile wait for that same fetch). Use them to sign with sign_request().
/// The client must outlive the provider and is used from its executor only.
class credentials_provider {
public:
    credentials_provider(http::client& client, credentials_request request,
                         std::chrono::seconds refresh_margin = default_refresh_margin);
    credentials_provider(const credentials_provider&) = delete;
    credentials_provider& operator=(const credentials_provider&) = delete;
    ~credentials_provider();

    /// Fresh credentials, from the cache or from a new fetch.
    ///
    /// Completes with `void(error_code, signing_credentials)`: empty error and the credentials, or the
    /// request's error (error::invalid_role_alias, ...), the transfer's (edgeloop.http/tls, or
    /// operation_aborted when the client cancels it), status_error() of the provider's answer (its
    /// x-amzn-ErrorType in last_response()), error::invalid_credentials or error::credentials_expired.
    /// Never completes inline (a cached answer is posted). No per-operation cancellation: cancel the
    /// client's transfers (client::cancel_all) to abandon a fetch.
    template <typename CompletionToken>
    auto async_get(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, signing_credentials)>(
            [](auto handler, const std::shared_ptr<detail::provider_state>& state) {
                detail::start_get_credentials(state, std::move(handler));
            },
            token, state_);
    }

    /// Forgets the cached credentials (e.g. after AWS refused them): the next async_get fetches.
    void invalidate();
    /// The provider's most recent answer (status, error, x-amzn-ErrorType, message; its credentials are
    /// cleared here: they live in the cache only).
    const credentials_response& last_response() const noexcept;
    /// Fetches started so far.
    std::size_t fetches() const noexcept;

private:
    std::shared_ptr<detail::provider_state> state_;
};

} // namespace edgeloop::aws
