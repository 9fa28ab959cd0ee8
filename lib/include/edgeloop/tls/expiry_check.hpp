#pragma once

#include <edgeloop/tls/context.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace edgeloop::tls {

/// What tls::context logs about its client certificate's expiry when it is built, as of `now`:
/// "client certificate F expires 2027-01-05 10:00:00 UTC, in 29 days: renew it" when within the options'
/// expiry_warning_days (0: never), "client certificate F expired 2026-01-05 10:00:00 UTC: renew it" once
/// past; empty otherwise, or without a client certificate. (Its expiry: context::client_certificate_expiry.)
std::string expiry_warning(const context& ctx,
                           std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// The daily re-check of a long-running process: every `interval` (default 24 h, on a steady timer of
/// the executor; no thread) logs expiry_warning() of the context `current()` returns (nullptr: nothing
/// to check), at warn level, so that a certificate nearing its end is reminded of daily, not only when
/// the process started. `current` is asked each time, so a rotated identity is the one checked.
/// Threads: make, stop and destroy it on the executor; stop() (and the destructor) end its wait (call
/// it from a core::reactor::on_stop handler).
class expiry_check {
public:
    expiry_check(boost::asio::any_io_executor ex, std::function<const context*()> current,
                 std::chrono::milliseconds interval = std::chrono::hours(24));
    expiry_check(const expiry_check&) = delete;
    expiry_check& operator=(const expiry_check&) = delete;
    ~expiry_check();

    void stop() noexcept;
    /// Checks done so far (each one logs only when there is something to say).
    unsigned checks() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace edgeloop::tls
