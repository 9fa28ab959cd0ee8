#include "systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace aws_post {

systemd_notifier::systemd_notifier(boost::asio::any_io_executor ex,
                                   std::function<void(std::function<void(std::string)>)> status)
    : watchdog_timer_(ex)
    , status_timer_(ex)
    , status_(std::move(status)) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket && *socket;
    std::uint64_t usec = 0;
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        watchdog_ = std::chrono::microseconds(usec);
}

void systemd_notifier::ready(const std::string& status) {
    if (!enabled_)
        return;
    last_status_ = status;
    sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
    if (watchdog_.count() > 0)
        watchdog_tick();
    status_timer_.expires_after(std::chrono::seconds(1));
    status_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            status_tick();
    });
}

void systemd_notifier::watchdog_tick() {
    if (stopped_)
        return;
    sd_notify(0, "WATCHDOG=1");
    watchdog_timer_.expires_after(watchdog_ / 2);
    watchdog_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            watchdog_tick();
    });
}

void systemd_notifier::status_tick() {
    if (stopped_)
        return;
    status_([this](std::string line) {
        if (stopped_)
            return;
        if (line != last_status_) {
            last_status_ = line;
            sd_notifyf(0, "STATUS=%s", line.c_str());
        }
        status_timer_.expires_after(std::chrono::seconds(1));
        status_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                status_tick();
        });
    });
}

void systemd_notifier::stopping() {
    if (!enabled_ || stopped_)
        return;
    stopped_ = true;
    watchdog_timer_.cancel();
    status_timer_.cancel();
    sd_notify(0, "STOPPING=1");
}

} // namespace aws_post
