#include <edgeloop/tls/identity_watch.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <system_error>

namespace edgeloop::tls {

namespace net = boost::asio;
using boost::system::error_code;

bool names_a_file(std::string_view v) noexcept {
    return !v.empty() && !v.starts_with("pkcs11:") && !v.starts_with("handle:");
}

struct identity_watch::impl : std::enable_shared_from_this<impl> {
    impl(net::any_io_executor ex, handler h, std::chrono::milliseconds s)
        : on_change(std::move(h))
        , settle(s)
        , timer(ex)
        , inotify(ex) {}

    handler on_change;
    std::chrono::milliseconds settle;
    std::vector<std::string> files;
    /// Per watch descriptor (one per directory): the names in it, and each one's path as given.
    std::map<int, std::map<std::string, std::string>> watched;
    std::set<std::string> changed; ///< paths changed since the last report
    net::steady_timer timer;
    net::posix::stream_descriptor inotify;
    std::optional<net::signal_set> signals;
    alignas(inotify_event) std::array<char, 4096> buffer{};
    bool stopped = false;

    void read() {
        inotify.async_read_some(
            net::buffer(buffer), [self = shared_from_this()](error_code ec, std::size_t n) {
                if (self->stopped || ec == net::error::operation_aborted)
                    return;
                if (ec) // the descriptor failed: nothing more will come from it (SIGHUP still works)
                    return;
                self->parse(n);
                self->read();
            });
    }

    void parse(std::size_t n) {
        bool any = false;
        for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
            inotify_event event;
            std::memcpy(&event, buffer.data() + at, sizeof event);
            const std::string name =
                event.len ? std::string(buffer.data() + at + sizeof(inotify_event)) : std::string();
            at += sizeof(inotify_event) + event.len;
            const auto dir = watched.find(event.wd);
            if (dir == watched.end())
                continue;
            const auto file = dir->second.find(name);
            if (file == dir->second.end())
                continue;
            changed.insert(file->second);
            any = true;
        }
        if (!any)
            return;
        timer.expires_after(settle); // restarts the wait: reported once the changes have settled
        timer.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || self->stopped)
                return;
            std::string what = "file changed: ";
            for (auto it = self->changed.begin(); it != self->changed.end(); ++it)
                what += (it == self->changed.begin() ? "" : ", ") + *it;
            self->changed.clear();
            self->on_change(what);
        });
    }

    void wait_signal() {
        signals->async_wait([self = shared_from_this()](error_code ec, int) {
            if (ec || self->stopped)
                return;
            self->on_change("SIGHUP");
            self->wait_signal();
        });
    }

    void stop() noexcept {
        if (stopped)
            return;
        stopped = true;
        error_code ignored;
        timer.cancel();
        inotify.close(ignored);
        if (signals)
            signals->cancel(ignored);
    }
};

identity_watch::identity_watch(net::any_io_executor ex, std::vector<std::string> paths, handler on_change,
                               bool sighup, std::chrono::milliseconds settle)
    : impl_(std::make_shared<impl>(ex, std::move(on_change), settle)) {
    for (auto& p : paths)
        if (names_a_file(p))
            impl_->files.push_back(std::move(p));
    if (!impl_->files.empty()) {
        const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
            throw std::system_error(errno, std::generic_category(), "identity watch: inotify_init1");
        impl_->inotify.assign(fd);
        std::map<std::string, int> by_dir;
        for (const auto& path : impl_->files) {
            const std::filesystem::path fp(path);
            const std::string dir = fp.has_parent_path() ? fp.parent_path().string() : std::string(".");
            auto it = by_dir.find(dir);
            if (it == by_dir.end()) {
                const int wd = ::inotify_add_watch(fd, dir.c_str(),
                                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
                if (wd < 0)
                    throw std::system_error(errno, std::generic_category(),
                                            "identity watch: inotify_add_watch " + dir);
                it = by_dir.emplace(dir, wd).first;
            }
            impl_->watched[it->second][fp.filename().string()] = path;
        }
        impl_->read();
    }
    if (sighup) {
        impl_->signals.emplace(ex, SIGHUP);
        impl_->wait_signal();
    }
}

identity_watch::~identity_watch() {
    stop();
}

void identity_watch::stop() noexcept {
    impl_->stop();
}

const std::vector<std::string>& identity_watch::files() const noexcept {
    return impl_->files;
}

} // namespace edgeloop::tls
