#pragma once

// systemd's notify protocol for aws_post --spool (Type=notify), through libsystemd's sd_notify.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace aws_post {

/// Sends READY=1, STATUS=... and WATCHDOG=1 to $NOTIFY_SOCKET; does nothing when it is unset (not run by
/// systemd). The watchdog ping is sent from a timer on the loop itself, at half of $WATCHDOG_USEC, so a
/// stuck loop stops pinging and systemd restarts the service. The status line is asked of `status`
/// every second and sent when it changed.
class systemd_notifier {
public:
    systemd_notifier(boost::asio::any_io_executor ex,
                     std::function<void(std::function<void(std::string)>)> status);
    bool enabled() const noexcept { return enabled_; }
    /// READY=1 with the first status line.
    void ready(const std::string& status);
    /// STOPPING=1; the timers end.
    void stopping();

private:
    void watchdog_tick();
    void status_tick();

    bool enabled_ = false;
    bool stopped_ = false;
    std::chrono::microseconds watchdog_{0};
    boost::asio::steady_timer watchdog_timer_;
    boost::asio::steady_timer status_timer_;
    std::function<void(std::function<void(std::string)>)> status_;
    std::string last_status_;
};

} // namespace aws_post
