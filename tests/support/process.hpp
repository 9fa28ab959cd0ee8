#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeloop::test {

/// A child process (fork + exec, own process group) with stdout and stderr appended to a log file.
/// The destructor sends SIGTERM, then SIGKILL after a grace period, and reaps it. The child gets SIGTERM
/// when the thread that started it exits (PR_SET_PDEATHSIG), so that a crashed or killed test leaves no
/// server behind: start children from a thread that outlives them (the test's main thread).
/// Other descriptors of the test process are not inherited; stdin is /dev/null.
class child_process {
public:
    child_process() = default;
    child_process(std::vector<std::string> argv, const std::string& log_file,
                  std::vector<std::string> extra_env = {});
    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&& other) noexcept;
    ~child_process();

    int pid() const noexcept { return pid_; }
    bool running();
    /// Sends a signal to the child.
    void signal(int sig);
    /// Waits for exit; returns the exit status (128+signal when killed), or nullopt on timeout.
    std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
    /// SIGTERM, grace period, SIGKILL, reap.
    void stop();
    /// Peak resident set of the child (and of the children it waited for), in KiB, once it has been
    /// reaped; 0 before.
    long max_rss_kib() const noexcept { return max_rss_kib_; }

private:
    int pid_ = -1;
    std::optional<int> status_;
    long max_rss_kib_ = 0;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();
/// n distinct TCP ports on 127.0.0.1 that were free a moment ago.
std::vector<std::uint16_t> free_ports(std::size_t n);
/// True once something accepts TCP connections on 127.0.0.1:port (connects every 20 ms).
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);
/// True when a TCP socket of any process on this host listens on the port (from /proc/net/tcp{,6}).
bool is_listening(std::uint16_t port);
/// Like wait_for_port(), but without connecting: the server sees no probe connection.
bool wait_for_listen(std::uint16_t port, std::chrono::milliseconds timeout);
/// Whole content of a file ("" when missing).
std::string read_file(const std::string& path);
/// True once the file at `path` contains `text`, false if it does not within `timeout`. Woken by changes
/// in the file's directory (inotify), not by polling.
bool wait_for_text(const std::string& path, const std::string& text, std::chrono::milliseconds timeout);
/// A fresh private directory under $TMPDIR (or /tmp).
std::string make_temp_dir(const std::string& prefix);
/// Number of open file descriptors of this process.
int count_open_fds();

} // namespace edgeloop::test
