#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::tls {

/// Tells, on the loop, when the files of a client identity have changed or SIGHUP has arrived, so that
/// the application reloads them (http::client::set_identity) without a restart.
///
/// Files: Linux inotify on the directories holding them (a certificate renewal tool writes a new file
/// and renames it over the old one, which replaces the directory entry: a watch on the file itself
/// would stay on the old inode), read through a boost::asio::posix::stream_descriptor on the executor;
/// no thread. A file written in place (closed after writing), created, or renamed (moved) in counts.
/// Changes coming close together (a certificate and its key, renamed one after the other) are reported
/// once, `settle` after the last one. A symbolic link is watched as its own name: a change of the file
/// it points to elsewhere is not seen (SIGHUP then).
///
/// SIGHUP (when `sighup`): reported at once, whatever changed. The signal is caught through a
/// boost::asio::signal_set for the life of the watch (the default action, ending the process, no
/// longer applies).
///
/// on_change runs on the executor, with what happened ("SIGHUP", or "file changed: <path>[, <path>]").
/// Threads: make, stop and destroy it on the executor. stop() (and the destructor) ends every wait, so
/// a loop run to exhaustion (core::reactor's graceful stop) is not held up by it: call stop() from a
/// reactor::on_stop handler. Throws std::system_error (naming the call and the directory) when inotify
/// cannot be set up; paths that are empty or are not files (`pkcs11:`, `handle:`) are skipped.
class identity_watch {
public:
    using handler = std::function<void(std::string_view what)>;

    identity_watch(boost::asio::any_io_executor ex, std::vector<std::string> files, handler on_change,
                   bool sighup = true, std::chrono::milliseconds settle = std::chrono::milliseconds(200));
    identity_watch(const identity_watch&) = delete;
    identity_watch& operator=(const identity_watch&) = delete;
    ~identity_watch();

    /// Stops watching (idempotent); on_change is not called after it returns.
    void stop() noexcept;
    /// The paths watched (the files given that are files).
    const std::vector<std::string>& files() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

/// True for a --key/--cert value that names a file (not a `pkcs11:` URI or a TPM `handle:`).
bool names_a_file(std::string_view key_or_cert) noexcept;

} // namespace edgeloop::tls
