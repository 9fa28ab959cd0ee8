#include <edgeloop/core/log.hpp>
#include <edgeloop/tls/expiry_check.hpp>

#include <boost/asio/steady_timer.hpp>

#include <ctime>

namespace edgeloop::tls {

namespace {

std::string format_time(std::time_t t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/// Where the certificate comes from, as tls::context names it.
std::string where(const options& o) {
    if (!o.cert_file.empty())
        return o.cert_file;
    const identity& id = o.client_identity;
    switch (id.type()) {
    case identity::kind::files:
    case identity::kind::pkcs11:
    case identity::kind::tpm:
        return id.cert().empty() ? redact_pkcs11_uri(id.key()) : redact_pkcs11_uri(id.cert());
    default:
        return "(in memory)";
    }
}

} // namespace

std::string expiry_warning(const context& ctx, std::chrono::system_clock::time_point now) {
    const auto expiry = ctx.client_certificate_expiry();
    const unsigned days = ctx.opts().expiry_warning_days;
    if (!expiry || days == 0)
        return {};
    const std::time_t not_after = std::chrono::system_clock::to_time_t(*expiry);
    const std::time_t at = std::chrono::system_clock::to_time_t(now);
    if (not_after <= at)
        return "client certificate " + where(ctx.opts()) + " expired " + format_time(not_after) +
               ": renew it";
    const long days_left = static_cast<long>((not_after - at) / 86400);
    if (days_left >= static_cast<long>(days))
        return {};
    return "client certificate " + where(ctx.opts()) + " expires " + format_time(not_after) + ", in " +
           std::to_string(days_left) + " days: renew it";
}

struct expiry_check::impl : std::enable_shared_from_this<impl> {
    impl(boost::asio::any_io_executor ex, std::function<const context*()> c, std::chrono::milliseconds i)
        : timer(std::move(ex))
        , current(std::move(c))
        , interval(i) {}

    boost::asio::steady_timer timer;
    std::function<const context*()> current;
    std::chrono::milliseconds interval;
    unsigned checks = 0;
    bool stopped = false;

    void arm() {
        timer.expires_after(interval);
        timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->stopped)
                return;
            ++self->checks;
            if (const context* ctx = self->current())
                if (auto warning = expiry_warning(*ctx); !warning.empty())
                    core::log::write(core::log_level::warn, warning);
            self->arm();
        });
    }
};

expiry_check::expiry_check(boost::asio::any_io_executor ex, std::function<const context*()> current,
                           std::chrono::milliseconds interval)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(current),
                                   interval.count() > 0 ? interval : std::chrono::milliseconds(1))) {
    impl_->arm();
}

expiry_check::~expiry_check() {
    stop();
}

void expiry_check::stop() noexcept {
    impl_->stopped = true;
    impl_->timer.cancel();
}

unsigned expiry_check::checks() const noexcept {
    return impl_->checks;
}

} // namespace edgeloop::tls
