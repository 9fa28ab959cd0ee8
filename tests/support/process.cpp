#include <support/process.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace edgeloop::test {

namespace {

using namespace std::chrono_literals;

[[noreturn]] void throw_errno(const std::string& what, int err = errno) {
    throw std::system_error(err, std::generic_category(), what);
}

/// A file descriptor closed on scope exit.
class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept
        : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }
    /// Moves the descriptor above 0, 1 and 2 (which the child overwrites), keeping it close-on-exec.
    void above_stdio() {
        if (fd_ >= 0 && fd_ <= STDERR_FILENO) {
            const int moved = ::fcntl(fd_, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
            if (moved < 0) {
                throw std::system_error(errno, std::generic_category(), "child_process: fcntl");
            }
            reset(moved);
        }
    }

private:
    int fd_;
};

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

/// The environment of this process with the NAME=VALUE entries of `extra` added or replaced.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        env.emplace_back(*e);
    }
    for (const auto& entry : extra) {
        const auto name = entry.substr(0, entry.find('=') + 1);
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
        env.push_back(entry);
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

/// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int log_fd, int null_fd, int err_fd,
                             pid_t parent) {
    ::setpgid(0, 0);
    // When the test process dies without running destructors (crash, ctest timeout), the child gets
    // SIGTERM instead of living on with its ports (nginx then stops its workers too).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
        ::_exit(127);
    }

    // Signal dispositions set to SIG_IGN and the signal mask survive exec: start the child clean.
    sigset_t all;
    ::sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
        ::signal(sig, SIG_DFL);
    }

    if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(log_fd, STDOUT_FILENO) < 0 ||
        ::dup2(log_fd, STDERR_FILENO) < 0) {
        const int err = errno;
        [[maybe_unused]] auto n = ::write(err_fd, &err, sizeof err);
        ::_exit(127);
    }
    // Nothing of the test process (sockets, the log and /dev/null descriptors, ...) leaks into the child,
    // except err_fd, which is close-on-exec and reports a failing exec to the parent.
    const auto keep = static_cast<unsigned>(err_fd);
    if (keep > STDERR_FILENO + 1) {
        ::close_range(STDERR_FILENO + 1, keep - 1, 0);
    }
    if (::close_range(keep + 1, ~0U, 0) != 0) { // kernels before 5.9
        for (int fd = err_fd + 1; fd < 65536; ++fd) {
            ::close(fd);
        }
    }

    ::execvpe(argv[0], argv, envp);
    const int err = errno;
    [[maybe_unused]] auto n = ::write(err_fd, &err, sizeof err);
    ::_exit(127);
}

} // namespace

child_process::child_process(std::vector<std::string> argv, const std::string& log_file,
                             std::vector<std::string> extra_env) {
    if (argv.empty()) {
        throw std::invalid_argument("child_process: empty argv");
    }
    auto env = child_environment(extra_env);
    auto c_argv = c_strings(argv);
    auto c_env = c_strings(env);

    unique_fd log_fd(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log_fd.get() < 0) {
        throw_errno("child_process: cannot open log file " + log_file);
    }
    unique_fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (null_fd.get() < 0) {
        throw_errno("child_process: cannot open /dev/null");
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw_errno("child_process: pipe2");
    }
    unique_fd err_read(pipe_fds[0]);
    unique_fd err_write(pipe_fds[1]);
    // Only when this process runs with 0, 1 or 2 closed.
    log_fd.above_stdio();
    null_fd.above_stdio();
    err_write.above_stdio();

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw_errno("child_process: fork");
    }
    if (pid == 0) {
        exec_child(c_argv.data(), c_env.data(), log_fd.get(), null_fd.get(), err_write.get(), parent);
    }
    // Also from the parent, so that signals sent to the group right away reach the child.
    ::setpgid(pid, pid);
    pid_ = pid;

    err_write.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(err_read.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        wait_for_exit(5s);
        pid_ = -1;
        status_.reset();
        throw_errno("child_process: cannot execute " + argv[0], child_errno);
    }
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1))
    , status_(std::exchange(other.status_, std::nullopt))
    , max_rss_kib_(std::exchange(other.max_rss_kib_, 0)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
    if (this != &other) {
        stop();
        pid_ = std::exchange(other.pid_, -1);
        status_ = std::exchange(other.status_, std::nullopt);
        max_rss_kib_ = std::exchange(other.max_rss_kib_, 0);
    }
    return *this;
}

child_process::~child_process() {
    stop();
}

bool child_process::running() {
    if (pid_ <= 0 || status_) {
        return false;
    }
    int status = 0;
    pid_t r;
    struct rusage usage {};
    do {
        r = ::wait4(pid_, &status, WNOHANG, &usage);
    } while (r < 0 && errno == EINTR);
    if (r == pid_)
        max_rss_kib_ = usage.ru_maxrss;
    if (r == 0) {
        return true;
    }
    // r == pid_: exited now. r < 0 (ECHILD): reaped by someone else; the status is lost.
    status_ = r == pid_ ? decode_status(status) : -1;
    return false;
}

void child_process::signal(int sig) {
    if (running()) {
        ::kill(pid_, sig);
    }
}

std::optional<int> child_process::wait_for_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return std::nullopt;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(10ms);
    }
    return status_;
}

void child_process::stop() {
    if (pid_ <= 0 || status_) {
        return;
    }
    if (::kill(-pid_, SIGTERM) != 0) {
        ::kill(pid_, SIGTERM);
    }
    if (!wait_for_exit(3s)) {
        if (::kill(-pid_, SIGKILL) != 0) {
            ::kill(pid_, SIGKILL);
        }
        int status = 0;
        pid_t r;
        struct rusage usage {};
        do {
            r = ::wait4(pid_, &status, 0, &usage);
        } while (r < 0 && errno == EINTR);
        if (r == pid_)
            max_rss_kib_ = usage.ru_maxrss;
        status_ = r == pid_ ? decode_status(status) : -1;
    }
    // Whatever is left of the group (children of the child that outlived it) goes too. The group id
    // cannot have been reused yet: a pid is not handed out again while a group of that id exists.
    ::kill(-pid_, SIGKILL);
}

std::uint16_t free_port() {
    return free_ports(1).front();
}

std::vector<std::uint16_t> free_ports(std::size_t n) {
    std::vector<unique_fd> sockets;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < n; ++i) {
        // All sockets stay bound until every port is known: the ports are distinct.
        auto& s = sockets.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s.get() < 0) {
            throw_errno("free_port: socket");
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            throw_errno("free_port: bind");
        }
        socklen_t len = sizeof addr;
        if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw_errno("free_port: getsockname");
        }
        ports.push_back(ntohs(addr.sin_port));
    }
    return ports;
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        unique_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s.get() < 0) {
            throw_errno("wait_for_port: socket");
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
}

bool is_listening(std::uint16_t port) {
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // header
        while (std::getline(in, line)) {
            // "  sl  local_address rem_address   st ..." with local_address "HEXADDR:HEXPORT", st 0A = LISTEN
            std::istringstream fields(line);
            std::string slot, local, remote, state;
            if (!(fields >> slot >> local >> remote >> state)) {
                continue;
            }
            const auto colon = local.rfind(':');
            if (colon == std::string::npos || state != "0A") {
                continue;
            }
            if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port) {
                return true;
            }
        }
    }
    return false;
}

bool wait_for_listen(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!is_listening(port)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {};
    }
    std::ostringstream out;
    out << in.rdbuf();
    return std::move(out).str();
}

bool wait_for_text(const std::string& path, const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Woken by every change in the file's directory (the file may not exist yet), not by a clock.
    unique_fd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (watch.get() < 0) {
        throw_errno("wait_for_text: inotify_init1");
    }
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (::inotify_add_watch(watch.get(), dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) <
        0) {
        throw_errno("wait_for_text: inotify_add_watch " + dir);
    }
    for (;;) {
        // Read after the watch is in place: a write between the two is not missed.
        if (read_file(path).find(text) != std::string::npos) {
            return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) {
            return false;
        }
        pollfd p{watch.get(), POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
        if (n < 0 && errno != EINTR) {
            throw_errno("wait_for_text: poll");
        }
        char events[4096];
        while (::read(watch.get(), events, sizeof events) > 0) {
        }
    }
}

std::string make_temp_dir(const std::string& prefix) {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string templ = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
    templ += "/" + prefix + "XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
        throw_errno("make_temp_dir: mkdtemp " + templ);
    }
    return templ;
}

int count_open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        throw_errno("count_open_fds: opendir /proc/self/fd");
    }
    int count = 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
            ++count;
        }
    }
    ::closedir(dir);
    return count - 1; // the directory's own descriptor
}

} // namespace edgeloop::test
