// Soak client (tests/soak/run starts nginx and runs this): N transfers with mixed outcomes and faults
// through ONE http::multi, at most --parallel at a time. Checks that every transfer completes exactly
// once with its expected outcome, samples RSS (/proc/self/statm) and open fds every 1000 transfers and
// fails when the last sample exceeds the first (after the first thousand) by more than the bounds.
// It also compares the first 10 % of the transfers with the last 10 % (the "windows"): peak RSS, peak open
// fds and the client's CPU time per transfer (its thread's rusage, user + system) in each, and fails when
// the last window's peak RSS exceeds the first's by more than --rss-bound-kb, its fds by more than
// --fd-bound, or its CPU per transfer the first's by more than --cpu-ratio (default 1.5; checked when each
// window holds at least 1000 transfers).
//
//   soak --n N --http-port P --https-port P --ca FILE [--parallel K] [--rss-bound-kb KB] [--fd-bound N]
//
// The faults come from a tiny blocking TCP server on its own thread (below): /cut answers a head with
// Content-Length 1000 and 100 body bytes, then closes; /garbage answers a line that is not HTTP.
// A refused port is one this process bound and closed.
#include <edgeloop/http/multi.hpp>

#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;

namespace {

long rss_kb() {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0;
    statm >> size >> resident;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d))
            n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n - 1; // the directory stream itself
}

/// CPU time (user + system) of the calling thread, microseconds: the client's, not the fault server's.
double thread_cpu_us() {
    rusage ru{};
    ::getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/// Listening socket on 127.0.0.1 with a kernel-chosen port.
int listen_socket(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        std::perror("soak: fault server socket");
        std::exit(2);
    }
    port = ntohs(a.sin_port);
    return fd;
}

/// The fault server: one connection at a time, one request per connection.
class fault_server {
public:
    fault_server()
        : fd_(listen_socket(port_))
        , thread_([this] { loop(); }) {}
    ~fault_server() {
        ::shutdown(fd_, SHUT_RDWR); // wakes accept()
        thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }

private:
    void loop() {
        for (;;) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                return;
            }
            std::string req;
            char buf[2048];
            while (req.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0)
                    break;
                req.append(buf, static_cast<std::size_t>(n));
            }
            std::string answer;
            if (req.rfind("GET /cut ", 0) == 0)
                answer = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(100, 'x');
            else
                answer = "THIS IS NOT HTTP\r\n\r\n";
            ssize_t ignored = ::write(c, answer.data(), answer.size());
            (void)ignored;
            ::close(c);
        }
    }
    std::uint16_t port_ = 0;
    int fd_;
    std::thread thread_;
};

std::uint16_t refused_port() {
    std::uint16_t port = 0;
    ::close(listen_socket(port));
    return port;
}

enum class kind { ok_https, ok_http, missing, big, redirect, refused, cut, garbage };
constexpr kind mix[] = {kind::ok_https, kind::ok_https, kind::ok_http, kind::missing, kind::big,
                        kind::redirect, kind::refused,  kind::cut,     kind::garbage, kind::ok_https};
const char* names[] = {"ok_https", "ok_http", "missing", "big", "redirect", "refused", "cut", "garbage"};

struct args {
    long n = 10000;
    int http_port = 0, https_port = 0;
    std::string ca;
    long parallel = 16;
    long big_bytes = 262144;
    long rss_bound_kb = 2048; ///< 0: not checked (ASan's quarantine grows by design)
    long fd_bound = 4;        ///< the fault server's connection, a socket between accept and pool, ...
    double cpu_ratio = 1.5;   ///< last window's CPU per transfer / first's; 0: not checked
};

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--n")
            a.n = std::stol(v);
        else if (k == "--http-port")
            a.http_port = std::stoi(v);
        else if (k == "--https-port")
            a.https_port = std::stoi(v);
        else if (k == "--ca")
            a.ca = v;
        else if (k == "--parallel")
            a.parallel = std::stol(v);
        else if (k == "--big-bytes")
            a.big_bytes = std::stol(v);
        else if (k == "--rss-bound-kb")
            a.rss_bound_kb = std::stol(v);
        else if (k == "--fd-bound")
            a.fd_bound = std::stol(v);
        else if (k == "--cpu-ratio")
            a.cpu_ratio = std::stod(v);
        else {
            std::fprintf(stderr, "soak: unknown option %s\n", k.c_str());
            std::exit(2);
        }
    }
    if (a.http_port == 0 || a.https_port == 0 || a.ca.empty() || a.n < 1) {
        std::fprintf(stderr, "usage: soak --n N --http-port P --https-port P --ca FILE [--parallel K] "
                             "[--big-bytes B] [--rss-bound-kb KB] [--fd-bound N] [--cpu-ratio R]\n");
        std::exit(2);
    }
    return a;
}

} // namespace

int main(int argc, char** argv) {
    const args a = parse(argc, argv);
    fault_server faults;
    const std::string https = "https://localhost:" + std::to_string(a.https_port);
    const std::string plain = "http://127.0.0.1:" + std::to_string(a.http_port);
    const std::string refused = "http://127.0.0.1:" + std::to_string(refused_port()) + "/";
    const std::string fault = "http://127.0.0.1:" + std::to_string(faults.port());

    net::io_context ioc;
    // Generous deadlines: the soak is about leaks and outcomes, and valgrind makes handshakes slow.
    const std::chrono::milliseconds slow = std::chrono::minutes(2);
    http::client client(ioc.get_executor(), tls::context({.ca_file = a.ca}),
                        {.timeouts = {.resolve = slow,
                                      .connect = slow,
                                      .handshake = slow,
                                      .write = slow,
                                      .response_head = slow,
                                      .idle = slow},
                         .pool = {.max_per_host = 8}});
    http::multi m(client);

    long started = 0, completed = 0, wrong = 0;
    std::vector<int> done_calls(static_cast<std::size_t>(a.n), 0);
    std::map<kind, long> per_kind;
    std::vector<long> rss;
    std::vector<int> fds;
    const int fds_at_start = open_fds();
    // The first and the last 10 % of the transfers: peak RSS and fds of the samples taken in each, and
    // the client thread's CPU time across each.
    struct window {
        long from = 0, to = 0; ///< completed counts (from, to]
        long peak_rss_kb = 0;
        int peak_fds = 0;
        double cpu_start_us = 0, cpu_us = 0;
    };
    const long tenth = std::max(1L, a.n / 10);
    window first{.from = 0, .to = tenth}, last{.from = a.n - tenth, .to = a.n};
    first.cpu_start_us = thread_cpu_us();
    const auto in_window = [](window& w, long done, long rss_now, int fds_now) {
        if (done > w.from && done <= w.to) {
            w.peak_rss_kb = std::max(w.peak_rss_kb, rss_now);
            w.peak_fds = std::max(w.peak_fds, fds_now);
        }
    };
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    const auto check = [&](long i, kind k, const boost::system::error_code& ec,
                           const http::transfer_info& info, std::uint64_t body) {
        bool ok = false;
        switch (k) {
        case kind::ok_https:
        case kind::ok_http:
            ok = !ec && info.status == 200 && body == 3;
            break;
        case kind::missing:
            ok = !ec && info.status == 404;
            break;
        case kind::big:
            ok = !ec && info.status == 200 && body == static_cast<std::uint64_t>(a.big_bytes);
            break;
        case kind::redirect:
            ok = !ec && info.status == 200 && info.redirects == 1 && body == 3;
            break;
        case kind::refused:
            ok = ec == http::error::connection_refused;
            break;
        case kind::cut:
            ok = ec == http::error::partial_response;
            break;
        case kind::garbage:
            ok = ec == http::error::malformed_response;
            break;
        }
        if (!ok && ++wrong <= 10)
            std::fprintf(stderr, "soak: transfer %ld (%s) unexpected: %s status %u body %llu\n", i,
                         names[static_cast<int>(k)], http::describe(ec, info).c_str(), info.status,
                         static_cast<unsigned long long>(body));
    };

    std::function<void()> add_next = [&] {
        const long i = started++;
        const kind k = mix[i % std::size(mix)];
        std::string url;
        switch (k) {
        case kind::ok_https:
            url = https + "/ok";
            break;
        case kind::ok_http:
            url = plain + "/ok";
            break;
        case kind::missing:
            url = https + "/missing";
            break;
        case kind::big:
            url = https + "/big.bin";
            break;
        case kind::redirect:
            url = https + "/redirect";
            break;
        case kind::refused:
            url = refused;
            break;
        case kind::cut:
            url = fault + "/cut";
            break;
        case kind::garbage:
            url = fault + "/garbage";
            break;
        }
        auto body = std::make_shared<std::uint64_t>(0);
        http::transfer t;
        t.req.url = std::move(url);
        t.callbacks.on_body = [body](std::span<const std::byte> b) { *body += b.size(); };
        t.on_done = [&, i, k, body](const boost::system::error_code& ec, const http::transfer_info& info) {
            ++done_calls[static_cast<std::size_t>(i)];
            ++per_kind[k];
            check(i, k, ec, info, *body);
            ++completed;
            if (completed == first.to)
                first.cpu_us = thread_cpu_us() - first.cpu_start_us;
            if (completed == last.from)
                last.cpu_start_us = thread_cpu_us();
            if (completed == last.to)
                last.cpu_us = thread_cpu_us() - last.cpu_start_us;
            const bool window_edge = completed == first.to || completed == last.from + 1;
            if (completed % 1000 == 0 || completed == a.n || window_edge) {
                const long r = rss_kb();
                // Connections the pool holds open are not a leak: count what is left besides them.
                const int f = open_fds() - static_cast<int>(client.open_connections());
                in_window(first, completed, r, f);
                in_window(last, completed, r, f);
                if (completed % 1000 == 0 || completed == a.n) {
                    rss.push_back(r);
                    fds.push_back(f);
                    if (completed % std::max(1000L, a.n / 100 / 1000 * 1000) == 0 || completed == a.n)
                        std::printf("soak: %ld done, RSS %ld KiB, fds %d besides %zu pooled connections\n",
                                    completed, r, f, client.open_connections());
                }
            }
            if (started < a.n)
                add_next();
        };
        m.add(std::move(t));
    };
    for (long j = 0; j < a.parallel && started < a.n; ++j)
        add_next();

    bool all_done = false;
    // async_wait_all completes whenever nothing runs; new adds happen in on_done, so wait until all are in.
    std::function<void()> wait_again = [&] {
        m.async_wait_all([&](boost::system::error_code) {
            if (started < a.n || completed < a.n)
                return wait_again();
            all_done = true;
        });
    };
    wait_again();
    ioc.run_for(std::chrono::minutes(30 + a.n / 10000)); // a hang fails instead of blocking
    client.cancel_all();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(3)); // TLS close_notify of the kept-alive connections

    int bad_counts = 0;
    for (long i = 0; i < a.n; ++i)
        bad_counts += done_calls[static_cast<std::size_t>(i)] != 1;
    for (const auto& [k, count] : per_kind)
        std::printf("soak: %-8s %ld\n", names[static_cast<int>(k)], count);
    const long rss_growth = rss.size() >= 2 ? rss.back() - rss.front() : 0;
    const int fd_growth = fds.size() >= 2 ? fds.back() - fds.front() : 0;
    const int fds_at_end = open_fds() - static_cast<int>(client.open_connections());
    std::printf("soak: %ld transfers, %ld unexpected outcomes, %d not completed exactly once\n", completed,
                wrong, bad_counts);
    std::printf(
        "soak: RSS after the first thousand %ld KiB, at the end %ld KiB (growth %ld KiB, bound %ld)\n",
        rss.empty() ? 0 : rss.front(), rss.empty() ? 0 : rss.back(), rss_growth, a.rss_bound_kb);
    std::printf(
        "soak: fds (besides pooled connections) at start %d, after the first thousand %d, at the last "
        "sample %d, after closing the pool %d\n",
        fds_at_start, fds.empty() ? 0 : fds.front(), fds.empty() ? 0 : fds.back(), fds_at_end);

    const double first_cpu = first.cpu_us / static_cast<double>(first.to - first.from);
    const double last_cpu = last.cpu_us / static_cast<double>(last.to - last.from);
    std::printf("soak: first 10%% (transfers %ld-%ld): peak RSS %ld KiB, peak fds %d, CPU %.1f us/transfer\n",
                first.from + 1, first.to, first.peak_rss_kb, first.peak_fds, first_cpu);
    std::printf("soak: last 10%% (transfers %ld-%ld): peak RSS %ld KiB, peak fds %d, CPU %.1f us/transfer\n",
                last.from + 1, last.to, last.peak_rss_kb, last.peak_fds, last_cpu);
    std::printf(
        "soak: last/first: RSS %+ld KiB (bound %ld), fds %+d (bound %ld), CPU x%.2f (bound x%.2f%s)\n",
        last.peak_rss_kb - first.peak_rss_kb, a.rss_bound_kb, last.peak_fds - first.peak_fds, a.fd_bound,
        first_cpu > 0 ? last_cpu / first_cpu : 0.0, a.cpu_ratio,
        tenth >= 1000 ? "" : ", not checked: under 1000 transfers per window");

    bool pass = all_done && completed == a.n && wrong == 0 && bad_counts == 0;
    if (a.rss_bound_kb > 0 && last.peak_rss_kb - first.peak_rss_kb > a.rss_bound_kb) {
        std::printf("soak: FAIL: peak RSS of the last 10%% exceeds the first's by more than the bound\n");
        pass = false;
    }
    if (last.peak_fds - first.peak_fds > a.fd_bound) {
        std::printf("soak: FAIL: open fds of the last 10%% exceed the first's by more than the bound\n");
        pass = false;
    }
    if (a.cpu_ratio > 0 && tenth >= 1000 && first_cpu > 0 && last_cpu > first_cpu * a.cpu_ratio) {
        std::printf("soak: FAIL: CPU per transfer of the last 10%% is over %.2fx the first's\n", a.cpu_ratio);
        pass = false;
    }
    if (a.rss_bound_kb > 0 && rss_growth > a.rss_bound_kb) {
        std::printf("soak: FAIL: RSS grew by %ld KiB\n", rss_growth);
        pass = false;
    }
    // fds_at_start is before the first socket: Asio's reactor (epoll, eventfd, timerfd) opens 3 fds later.
    // One sample can undercount by a few (a connection the pool still counts while its socket is already
    // closed): after closing the pool, compare with the first 10 %'s peak, not with one sample.
    if (fd_growth > a.fd_bound || (!fds.empty() && fds_at_end > std::max(fds.front(), first.peak_fds))) {
        std::printf("soak: FAIL: open fds grew\n");
        pass = false;
    }
    std::printf("soak: %s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}
