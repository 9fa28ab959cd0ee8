// transfer_memory: heap bytes held per running and per queued transfer of one http::multi (issue 19).
//
//   transfer_memory [--running R] [--queued N]
//
// Forks the embedded devserver into a child process (so that its heap is not this one's), then, with
// pool_options::max_total = R, adds R transfers of /200?sleep=600000 (each running: connected, TLS done,
// request sent, waiting for the answer) and then N more, which wait in the queue for a connection.
// Heap in use (glibc mallinfo2: bytes handed out by malloc and not freed) is read after the first
// transfer runs, after all R run and after the N are queued:
//   per running transfer = (after R - after 1) / (R - 1), per queued = (after N queued - after R) / N.
// The transfers are the caller's as multi_fetch makes them: a URL, an on_body and an on_done handler.
// Run it under valgrind --tool=massif (tests/bench/README.md) for where the bytes are allocated.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/multi.hpp>

#include <boost/asio/io_context.hpp>

#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace http = edgeloop::http;
namespace net = boost::asio;

namespace {

std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

/// Runs the devserver in a child; returns its pid, port and CA file (read from a pipe).
pid_t start_server(int& port, std::string& ca) {
    int fds[2];
    if (::pipe(fds) != 0)
        std::exit(2);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        net::io_context ioc;
        edgeloop::devserver::server server(ioc.get_executor());
        const std::string line = std::to_string(server.port()) + " " + server.ca_file() + "\n";
        if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            std::_Exit(2);
        ::close(fds[1]);
        ioc.run();
        std::_Exit(0);
    }
    ::close(fds[1]);
    char buf[4096] = {};
    std::size_t got = 0;
    for (ssize_t n; got < sizeof buf - 1 && (n = ::read(fds[0], buf + got, sizeof buf - 1 - got)) > 0;)
        got += static_cast<std::size_t>(n);
    ::close(fds[0]);
    char path[4000] = {};
    if (std::sscanf(buf, "%d %3999s", &port, path) != 2) {
        std::fprintf(stderr, "transfer_memory: the devserver did not start\n");
        std::exit(2);
    }
    ca = path;
    return pid;
}

} // namespace

int main(int argc, char** argv) {
    long running = 50, queued = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--running") == 0)
            running = std::atol(argv[i + 1]);
        else if (std::strcmp(argv[i], "--queued") == 0)
            queued = std::atol(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: transfer_memory [--running R] [--queued N]\n");
            return 2;
        }
    }
    if (running < 2 || queued < 1) {
        std::fprintf(stderr, "transfer_memory: --running must be >= 2 and --queued >= 1\n");
        return 2;
    }
    int port = 0;
    std::string ca;
    const pid_t server = start_server(port, ca);
    const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/200?sleep=600000";

    net::io_context ioc;
    http::client client(ioc.get_executor(), edgeloop::tls::context({.ca_file = ca}),
                        {.pool = {.max_total = static_cast<std::size_t>(running),
                                  .max_per_host = static_cast<std::size_t>(running)}});
    http::multi m(client);
    long completed = 0;
    const auto add = [&](long n) {
        for (long i = 0; i < n; ++i) {
            http::transfer t;
            t.req.url = url;
            auto bytes = std::make_shared<std::uint64_t>(0);
            t.callbacks.on_body = [bytes](std::span<const std::byte> b) { *bytes += b.size(); };
            t.on_done = [&completed, bytes](const boost::system::error_code&, const http::transfer_info&) {
                ++completed;
            };
            m.add(std::move(t));
        }
    };
    // Until the server has n requests waiting: each running transfer sent its request.
    const auto settle = [&](std::chrono::milliseconds d) {
        ioc.run_for(d);
        ioc.restart();
    };
    add(1);
    settle(std::chrono::milliseconds(1500)); // one full handshake and its session
    const std::size_t one = heap_in_use();
    add(running - 1);
    settle(std::chrono::milliseconds(3000));
    const std::size_t all_running = heap_in_use();
    add(queued);
    settle(std::chrono::milliseconds(500));
    const std::size_t with_queue = heap_in_use();
    const bool ok = completed == 0 && client.open_connections() == static_cast<std::size_t>(running);

    std::printf("transfer_memory: heap in use %zu bytes with 1 running, %zu with %ld running, %zu with %ld "
                "queued besides\n",
                one, all_running, running, with_queue, queued);
    std::printf("transfer_memory: %.0f bytes per running transfer, %.0f bytes per queued transfer%s\n",
                static_cast<double>(all_running - one) / static_cast<double>(running - 1),
                static_cast<double>(with_queue - all_running) / static_cast<double>(queued),
                ok ? "" : " (INVALID: not all transfers were running or some completed)");
    client.cancel_all();
    settle(std::chrono::milliseconds(500));
    ::kill(server, SIGTERM);
    ::waitpid(server, nullptr, 0);
    return ok ? 0 : 1;
}
