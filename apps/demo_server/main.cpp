// edgeloop-demo-server: the endpoint of the apps' --demo (edgeloop::devserver) in a process of its own, so
// that aws_post and multi_fetch do not carry the server (more than half of each static program) in their
// binaries. A second copy of Asio and edgeloop in a dlopen'ed module would duplicate Asio's thread-local
// call stacks and service statics; a program of its own shares nothing.
//
// Spawned by the apps (apps/common/demo_server_process.cpp); speaks the line protocol of
// apps/common/demo_protocol.hpp on stdin and stdout. It ends when stdin ends (its parent stopped it or
// died), on SIGTERM or SIGINT, and, on Linux, when its parent dies (PR_SET_PDEATHSIG): it never outlives
// the program that started it. Its temporary directory (the CA certificate) goes with it.

#include "common/demo_protocol.hpp"

#include <edgeloop/devserver.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>

#include <poll.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace protocol = app_common::demo_protocol;
using namespace edgeloop;

constexpr const char* usage =
    "usage: edgeloop-demo-server [--require-client-certificate] [--alpn PROTOCOL]...\n"
    "                            [--sigv4-access-key-id ID] [--sigv4-region REGION]\n"
    "                            [--credentials-role-alias ALIAS]\n"
    "The --demo endpoint of aws_post and multi_fetch, which start it; it speaks JSON lines on stdin and\n"
    "stdout (the first line out: {\"event\":\"ready\",...}) and ends when stdin ends. With\n"
    "--sigv4-access-key-id the first line in is {\"secretAccessKey\":\"...\",\"sessionToken\":\"...\"}.\n";

enum exit_status : int { exit_ok = 0, exit_usage = 2, exit_start = 3, exit_parent = 4 };

/// Writes all of `data` to fd, waiting while it is full (the descriptor may be non-blocking: it can share
/// its open file with stdin, which Asio reads). False when the reader is gone.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n >= 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, -1);
        } else if (errno != EINTR) {
            return false;
        }
    }
    return true;
}

/// Reads stdin up to the first newline (before the loop runs: the secret line). False at the end of input.
bool read_first_line(std::string& line, std::string& rest) {
    std::array<char, 4096> chunk;
    for (;;) {
        if (const auto nl = rest.find('\n'); nl != std::string::npos) {
            line = rest.substr(0, nl);
            rest.erase(0, nl + 1);
            return true;
        }
        const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        rest.append(chunk.data(), static_cast<std::size_t>(n));
    }
}

/// The server, its requests on stdin and its answers and events on `out_fd`.
class session {
public:
    session(asio::io_context& ctx, devserver::options opts, int out_fd, std::string pending)
        : out_fd_(out_fd)
        , in_(ctx, ::dup(STDIN_FILENO))
        , signals_(ctx, SIGTERM, SIGINT)
        , pending_(std::move(pending)) {
        // Each publish goes to the parent before the server answers it: once the client has its answer,
        // the parent has the line.
        opts.publish_hook = [this](const devserver::received_publish& p) -> unsigned {
            if (!send(protocol::publish_to_json(p)))
                stop();
            return 0;
        };
        server_.emplace(ctx.get_executor(), std::move(opts));
    }

    bool start() {
        if (!send({{"event", "ready"},
                   {"port", server_->port()},
                   {"url", server_->url("")},
                   {"caFile", server_->ca_file()}}))
            return false;
        signals_.async_wait([this](boost::system::error_code ec, int) {
            if (!ec)
                stop();
        });
        handle_lines();
        read_more();
        return true;
    }

private:
    bool send(const boost::json::object& o) { return write_all(out_fd_, protocol::to_line(o)); }

    void read_more() {
        if (stopped_)
            return;
        in_.async_read_some(asio::buffer(chunk_), [this](boost::system::error_code ec, std::size_t n) {
            if (ec) { // end of stdin (or an error on it): the parent is done with the server
                stop();
                return;
            }
            pending_.append(chunk_.data(), n);
            handle_lines();
            read_more();
        });
    }

    void handle_lines() {
        for (auto nl = pending_.find('\n'); nl != std::string::npos && !stopped_; nl = pending_.find('\n')) {
            const std::string line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            handle(line);
        }
    }

    void handle(const std::string& line) {
        const auto request = protocol::parse_line(line);
        const std::string op = request ? protocol::string_of(*request, "op") : std::string();
        bool sent = false;
        if (op == "issueClientCertificate") {
            // In memory only: the key goes to the parent over the pipe and is never written to disk.
            auto [cert_pem, key_pem] = server_->issue_client_certificate_pem();
            sent = send({{"event", "clientCertificate"}, {"certificatePem", cert_pem}, {"keyPem", key_pem}});
        } else {
            sent =
                send({{"event", "error"},
                      {"message", request ? "unknown op '" + op + "'" : std::string("not a JSON object")}});
        }
        if (!sent)
            stop();
    }

    void stop() {
        if (stopped_)
            return;
        stopped_ = true;
        server_->stop();
        boost::system::error_code ignored;
        in_.close(ignored);
        signals_.cancel(ignored);
    }

    int out_fd_;
    asio::posix::stream_descriptor in_;
    asio::signal_set signals_;
    std::string pending_;
    std::array<char, 4096> chunk_{};
    std::optional<devserver::server> server_;
    bool stopped_ = false;
};

} // namespace

int main(int argc, char* argv[]) {
#ifdef __linux__
    // The parent's end of our stdin closes when it dies, which ends us too; this is the second line of
    // defence (and covers a parent that leaked the descriptor to another child).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    std::signal(SIGPIPE, SIG_IGN); // a parent gone is a failed write, not a signal

    devserver::options opts;
    std::optional<std::string> access_key_id;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--require-client-certificate") {
            opts.require_client_certificate = true;
        } else if (a == "--alpn" && has_value) {
            opts.alpn.emplace_back(argv[++i]);
        } else if (a == "--sigv4-access-key-id" && has_value) {
            access_key_id = argv[++i];
        } else if (a == "--sigv4-region" && has_value) {
            opts.sigv4_region = argv[++i];
        } else if (a == "--credentials-role-alias" && has_value) {
            opts.credentials_role_alias = argv[++i];
        } else if (a == "--help") {
            std::fputs(usage, stdout);
            return exit_ok;
        } else {
            std::fprintf(stderr, "edgeloop-demo-server: unknown or incomplete option '%s'\n%s", argv[i],
                         usage);
            return exit_usage;
        }
    }

    // The protocol has stdout to itself: anything else printing there goes to stderr.
    const int out_fd = ::dup(STDOUT_FILENO);
    if (out_fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        std::fprintf(stderr, "edgeloop-demo-server: stdout: %s\n", std::strerror(errno));
        return exit_start;
    }
    std::string line;
    std::string pending;
    if (access_key_id) {
        if (!read_first_line(line, pending)) {
            std::fprintf(stderr,
                         "edgeloop-demo-server: --sigv4-access-key-id: stdin ended before the secret key\n");
            return exit_parent;
        }
        const auto secret = protocol::parse_line(line);
        const std::string key = secret ? protocol::string_of(*secret, "secretAccessKey") : std::string();
        if (key.empty()) {
            std::fprintf(stderr, "edgeloop-demo-server: --sigv4-access-key-id: the first line of stdin has "
                                 "no secretAccessKey\n");
            return exit_usage;
        }
        opts.sigv4_credentials =
            aws::signing_credentials{.access_key_id = *access_key_id,
                                     .secret_access_key = key,
                                     .session_token = protocol::string_of(*secret, "sessionToken"),
                                     .expiration = {}};
    }

    try {
        asio::io_context ctx(1);
        session s(ctx, std::move(opts), out_fd, std::move(pending));
        if (!s.start())
            return exit_parent;
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "edgeloop-demo-server: %s\n", e.what());
        return exit_start;
    }
    return exit_ok;
}
