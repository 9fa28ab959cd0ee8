#include "common/demo_server_process.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

extern char** environ;

namespace app_common {

namespace net = boost::asio;
namespace protocol = demo_protocol;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char* program_name = "edgeloop-demo-server";

std::string errno_text(int e) {
    return std::strerror(e);
}

/// Where the helper is: see the class comment for the order. Throws demo_server_error naming every path
/// tried.
std::string locate_program() {
    if (const char* env = std::getenv("EDGELOOP_DEMO_SERVER"); env && *env) {
        if (::access(env, X_OK) != 0)
            throw demo_server_error(std::string("cannot start the demo server: EDGELOOP_DEMO_SERVER=") + env +
                                    ": " + errno_text(errno));
        return env;
    }
    std::string tried;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const auto& candidate :
             {self.parent_path() / program_name, self.parent_path() / EDGELOOP_DEMO_SERVER_RELATIVE}) {
            const auto path = candidate.lexically_normal().string();
            if (::access(path.c_str(), X_OK) == 0)
                return path;
            tried += path + " (" + errno_text(errno) + "), ";
        }
    }
    const std::string installed = EDGELOOP_DEMO_SERVER_INSTALLED;
    if (::access(installed.c_str(), X_OK) == 0)
        return installed;
    tried += installed + " (" + errno_text(errno) + ")";
    throw demo_server_error(std::string("cannot start the demo server: no ") + program_name +
                            " found: tried " + tried + "; set EDGELOOP_DEMO_SERVER to its path");
}

std::string describe_status(int status) {
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    return "ended (status " + std::to_string(status) + ")";
}

} // namespace

struct demo_server_process::state {
    explicit state(net::any_io_executor ex)
        : channel(std::move(ex)) {}

    std::string program;
    pid_t pid = -1;
    std::optional<int> status;             ///< once reaped
    net::posix::stream_descriptor channel; ///< our end of the socketpair that is the child's stdin and stdout
    std::string pending;                   ///< bytes read that do not make a whole line yet
    std::array<char, 16 * 1024> chunk{};
    bool reading = false;  ///< the loop reads the channel (synchronous reads are over)
    bool stopping = false; ///< stop() was called: the child's end is expected
    bool ended = false;    ///< the child closed its end
    std::uint16_t port = 0;
    std::string url_base;
    std::string ca_file;
    std::optional<std::pair<std::string, std::string>> certificate;
    std::optional<boost::json::object> last_publish; ///< its line (decoded by the header's last_publish())
    std::string error;                               ///< the child's last {"event":"error"}

    int fd() { return channel.native_handle(); }

    void handle(const std::string& line) {
        const auto o = protocol::parse_line(line);
        if (!o)
            return;
        const std::string event = protocol::string_of(*o, "event");
        if (event == "publish") {
            last_publish = std::move(*o);
        } else if (event == "ready") {
            const auto* p = o->if_contains("port");
            if (p && p->is_int64() && p->as_int64() > 0 && p->as_int64() < 65536)
                port = static_cast<std::uint16_t>(p->as_int64());
            url_base = protocol::string_of(*o, "url");
            ca_file = protocol::string_of(*o, "caFile");
        } else if (event == "clientCertificate") {
            certificate.emplace(protocol::string_of(*o, "certificatePem"), protocol::string_of(*o, "keyPem"));
        } else if (event == "error") {
            error = protocol::string_of(*o, "message");
        }
    }

    void handle_lines() {
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            handle(line);
        }
    }

    /// Before the loop runs: reads and handles lines until `done()` or the deadline; false when the child
    /// closed its end or the deadline passed first.
    bool read_until(const std::function<bool()>& done, clock_type::time_point deadline) {
        for (;;) {
            handle_lines();
            if (done())
                return true;
            if (ended)
                return false;
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
            pollfd p{fd(), POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return false;
            const ssize_t n = ::recv(fd(), chunk.data(), chunk.size(), MSG_DONTWAIT);
            if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
                continue;
            if (n <= 0)
                ended = true;
            else
                pending.append(chunk.data(), static_cast<std::size_t>(n));
        }
    }

    /// Before the loop runs: one line to the child. MSG_NOSIGNAL: a child that died is an error, not a
    /// SIGPIPE that would end this program.
    bool send_line(const std::string& line, clock_type::time_point deadline) {
        std::string_view rest = line;
        while (!rest.empty()) {
            const ssize_t n = ::send(fd(), rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                rest.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return false;
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
            pollfd p{fd(), POLLOUT, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0)
                return false;
        }
        return true;
    }

    /// On the loop: the child's lines (publishes) as they come, until it closes its end.
    static void read_more(const std::shared_ptr<state>& self) {
        self->reading = true;
        if (self->ended || !self->channel.is_open())
            return;
        self->channel.async_read_some(
            net::buffer(self->chunk), [self](boost::system::error_code ec, std::size_t n) {
                if (ec == net::error::operation_aborted)
                    return;
                if (!ec) {
                    self->pending.append(self->chunk.data(), n);
                    self->handle_lines();
                    read_more(self);
                    return;
                }
                self->ended = true;
                if (!self->stopping)
                    std::fprintf(stderr,
                                 "%s (pid %d) ended while the program still ran: --demo's server is gone\n",
                                 self->program.c_str(), static_cast<int>(self->pid));
            });
    }

    /// Waits up to `grace` for the child to exit, then kills it; returns its status. `killed`: whether it
    /// had to be killed.
    int reap(std::chrono::milliseconds grace, bool* killed = nullptr) {
        if (status)
            return *status;
        const auto deadline = clock_type::now() + grace;
        int st = 0;
        for (;;) {
            const pid_t r = ::waitpid(pid, &st, WNOHANG);
            if (r == pid)
                break;
            if (r < 0 && errno != EINTR) {
                st = -1;
                break;
            }
            if (r == 0 && clock_type::now() >= deadline) {
                ::kill(pid, SIGKILL);
                if (killed)
                    *killed = true;
                while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
                }
                break;
            }
            std::this_thread::sleep_for(5ms);
        }
        status = st;
        return st;
    }

    /// A demo_server_error for a child that broke off or did not answer, with its exit status.
    [[noreturn]] void fail(const std::string& what) {
        bool killed = false;
        // A child that closed its end is exiting (allow it a moment); one that still holds it gets no more.
        const int st = reap(ended ? 3s : 100ms, &killed);
        throw demo_server_error("demo server " + program + " (pid " + std::to_string(pid) + "): " + what +
                                ": " + (killed ? std::string("no answer, killed") : describe_status(st)) +
                                (error.empty() ? "" : " (" + error + ")"));
    }
};

demo_server_process::demo_server_process(net::any_io_executor ex, const demo_server_options& opts,
                                         std::chrono::milliseconds timeout)
    : state_(std::make_shared<state>(ex)) {
    auto& s = *state_;
    s.program = locate_program();

    std::vector<std::string> args{s.program};
    if (opts.require_client_certificate)
        args.push_back("--require-client-certificate");
    for (const auto& p : opts.alpn)
        args.insert(args.end(), {"--alpn", p});
    if (opts.sigv4_credentials)
        args.insert(args.end(), {"--sigv4-access-key-id", opts.sigv4_credentials->access_key_id});
    if (opts.sigv4_credentials || !opts.credentials_role_alias.empty())
        args.insert(args.end(), {"--sigv4-region", opts.sigv4_region});
    if (!opts.credentials_role_alias.empty())
        args.insert(args.end(), {"--credentials-role-alias", opts.credentials_role_alias});
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    // A socketpair rather than two pipes: one descriptor each way, and send() can refuse to raise SIGPIPE.
    // Close-on-exec: our end must not reach any other child, or the helper would not see it close.
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw demo_server_error("cannot start the demo server " + s.program +
                                ": socketpair: " + errno_text(errno));
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, sv[1], STDIN_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, sv[1], STDOUT_FILENO);
    ::posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setpgroup(&attr, 0); // a group of its own: the terminal's Ctrl-C is the app's to handle
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    const int err = ::posix_spawn(&s.pid, s.program.c_str(), &actions, &attr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
    ::close(sv[1]);
    if (err != 0) {
        ::close(sv[0]);
        throw demo_server_error("cannot start the demo server " + s.program + ": " + errno_text(err));
    }
    s.channel.assign(sv[0]);

    const auto deadline = clock_type::now() + timeout;
    if (opts.sigv4_credentials &&
        !s.send_line(protocol::to_line({{"secretAccessKey", opts.sigv4_credentials->secret_access_key},
                                        {"sessionToken", opts.sigv4_credentials->session_token}}),
                     deadline))
        s.fail("could not be given its keys");
    if (!s.read_until([&s] { return s.port != 0; }, deadline))
        s.fail(s.ended ? "ended before it was ready" : "not ready in time");
    if (s.url_base.empty() || s.ca_file.empty())
        s.fail("its ready line has no url or caFile");
    // From the loop's first turn on, the loop reads (synchronous reads are only for before it runs).
    net::post(ex, [weak = std::weak_ptr<state>(state_)] {
        if (auto self = weak.lock(); self && !self->reading)
            state::read_more(self);
    });
}

demo_server_process::~demo_server_process() {
    stop();
    boost::system::error_code ignored;
    state_->channel.close(ignored);
    state_->reap(3s);
}

std::uint16_t demo_server_process::port() const noexcept {
    return state_->port;
}

std::string demo_server_process::url(std::string_view path) const {
    return state_->url_base + std::string(path);
}

const std::string& demo_server_process::ca_file() const noexcept {
    return state_->ca_file;
}

std::pair<std::string, std::string> demo_server_process::issue_client_certificate_pem() {
    auto& s = *state_;
    if (s.reading)
        throw std::logic_error(
            "demo_server_process::issue_client_certificate_pem: only before the loop runs");
    const auto deadline = clock_type::now() + 30s;
    s.certificate.reset();
    if (!s.send_line(protocol::to_line({{"op", "issueClientCertificate"}}), deadline))
        s.fail("could not be asked for a client certificate");
    if (!s.read_until([&s] { return s.certificate.has_value(); }, deadline))
        s.fail("issued no client certificate");
    auto pem = std::move(*s.certificate);
    s.certificate.reset();
    return pem;
}

std::optional<boost::json::object> demo_server_process::last_publish_line() {
    // What came in since the loop last read (the loop may have been stopped before reading the line of
    // the last publish, which the child wrote before answering it).
    state_->read_until([] { return false; }, clock_type::now());
    return state_->last_publish;
}

void demo_server_process::stop() {
    if (state_->stopping)
        return;
    state_->stopping = true;
    if (state_->channel.is_open())
        ::shutdown(state_->fd(), SHUT_WR); // the child's stdin ends; its lines still come until it exits
}

int demo_server_process::pid() const noexcept {
    return state_->pid;
}

const std::string& demo_server_process::program() const noexcept {
    return state_->program;
}

} // namespace app_common
