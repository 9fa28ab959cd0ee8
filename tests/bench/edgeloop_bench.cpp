// edgeloop_bench: the library's side of tests/bench/run. Runs --requests transfers of one URL on
// http::multi with at most --connections in flight (a new transfer is added as one completes, as the
// libcurl reference client does), discards the bodies, and prints one result line:
//
//   edgeloop_bench: ok N failed F bytes B reused R resumed S [lateness ...]
//
// With --blinker-ms P a gpio::blinker toggles a null LED every P ms on the same io_context while the
// transfers run and its lateness (p50/p99/max, microseconds) is printed too; --requests 0 --idle-ms D
// runs the blinker alone for D ms (the machine's own timer noise, for comparison). Exit status 0 only
// when every transfer answered --expect-status (default 200).

#include <edgeloop/core.hpp>
#include <edgeloop/gpio.hpp>
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>

namespace {

using namespace edgeloop;
namespace po = boost::program_options;

/// An LED that drives nothing: the blinker's timing is what is measured.
class null_led : public gpio::output {
public:
    null_led()
        : gpio::output("LED1", false) {}

private:
    void write(bool, boost::system::error_code&) noexcept override {}
};

struct bench_options {
    std::string url;
    std::size_t requests = 1;
    std::size_t connections = 1;
    std::string cacert;
    std::string cert;
    std::string key;
    std::string post;
    bool post_set = false;
    bool keep_alive = true;
    bool session_cache = true;
    unsigned blinker_ms = 0;
    unsigned idle_ms = 0;
    unsigned expect_status = 200;
    unsigned handshake_spacing_ms = static_cast<unsigned>(http::pool_options{}.handshake_spacing.count());
    bool share_first_handshake = true;
    std::size_t show_worst = 0;
};

struct totals {
    std::size_t started = 0;
    std::size_t ok = 0;
    std::size_t failed = 0;
    std::uint64_t bytes = 0;
    std::size_t reused = 0;
    std::size_t resumed = 0;
};

long long micros(gpio::blinker::clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

int run(const bench_options& opt) {
    core::log::set_level(core::log_level::warn);
    core::reactor reactor;
    http::client_options copts;
    copts.pool.max_total = opt.connections;
    copts.pool.max_per_host = opt.connections;
    copts.pool.max_idle = opt.connections;
    copts.pool.keep_alive = opt.keep_alive;
    copts.pool.tls_session_cache = opt.session_cache;
    copts.pool.handshake_spacing = std::chrono::milliseconds(opt.handshake_spacing_ms);
    copts.pool.share_first_handshake = opt.share_first_handshake;
    http::client client(reactor.executor(),
                        tls::context({.ca_file = opt.cacert, .cert_file = opt.cert, .key_file = opt.key}),
                        copts);
    http::multi transfers(client);

    null_led led;
    gpio::blinker blinker(reactor.executor(), led,
                          std::chrono::milliseconds(opt.blinker_ms ? opt.blinker_ms : 1));
    if (opt.blinker_ms)
        blinker.start();

    totals t;
    std::string first_error;
    std::function<void()> add_one = [&] {
        ++t.started;
        http::transfer tr;
        tr.req.url = opt.url;
        if (opt.post_set) {
            tr.req.method = "POST";
            tr.req.body = opt.post;
            tr.req.headers.emplace_back("Content-Type", "application/json");
        }
        tr.callbacks.on_body = [&t](std::span<const std::byte> b) { t.bytes += b.size(); };
        tr.on_done = [&](const boost::system::error_code& ec, const http::transfer_info& info) {
            if (!ec && info.status == opt.expect_status) {
                ++t.ok;
                t.reused += info.reused_connection;
                t.resumed += info.tls_resumed;
            } else {
                ++t.failed;
                if (first_error.empty())
                    first_error = ec ? http::describe(ec, info) : "HTTP " + std::to_string(info.status);
            }
            if (t.started < opt.requests)
                add_one();
        };
        transfers.add(std::move(tr));
    };
    for (std::size_t i = 0; i < opt.connections && t.started < opt.requests; ++i)
        add_one();
    boost::asio::steady_timer idle(reactor.executor(), std::chrono::milliseconds(opt.idle_ms));
    const auto finish = [&](boost::system::error_code) {
        blinker.stop(true);
        reactor.stop();
    };
    if (opt.requests == 0)
        idle.async_wait(finish);
    else
        transfers.async_wait_all(finish);
    reactor.run();

    std::printf("edgeloop_bench: ok %zu failed %zu bytes %llu reused %zu resumed %zu", t.ok, t.failed,
                static_cast<unsigned long long>(t.bytes), t.reused, t.resumed);
    if (opt.blinker_ms) {
        const auto s = blinker.lateness();
        std::printf(" lateness_us p50 %lld p99 %lld max %lld toggles %llu", micros(s.median), micros(s.p99),
                    micros(s.max), static_cast<unsigned long long>(s.toggles));
    }
    std::printf("\n");
    if (opt.blinker_ms && opt.show_worst) {
        // Where the lateness comes from: the latest toggles, with when they were due.
        auto h = blinker.history();
        std::sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.lateness > b.lateness; });
        h.resize(std::min(h.size(), opt.show_worst));
        for (const auto& tick : h)
            std::printf("  toggle %llu due at %lld us: %lld us late, %llu skipped\n",
                        static_cast<unsigned long long>(tick.index),
                        micros(tick.deadline - blinker.started_at()), micros(tick.lateness),
                        static_cast<unsigned long long>(tick.skipped));
    }
    if (!first_error.empty())
        std::fprintf(stderr, "edgeloop_bench: first failure: %s\n", first_error.c_str());
    return t.ok == opt.requests ? 0 : 1;
}

} // namespace

int main(int argc, char* argv[]) {
    bench_options opt;
    po::options_description d("edgeloop_bench options");
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("url", po::value(&opt.url), "URL to fetch (every transfer)")
        ("requests,n", po::value(&opt.requests), "transfers in all (default 1; 0: blinker alone, see --idle-ms)")
        ("connections,c", po::value(&opt.connections), "transfers (and connections) at once (default 1)")
        ("cacert", po::value(&opt.cacert), "CA file (the server is verified)")
        ("cert", po::value(&opt.cert), "client certificate (mutual TLS)")
        ("key", po::value(&opt.key), "client key")
        ("post", po::value(&opt.post), "POST this body (application/json) instead of GET")
        ("no-keepalive", "close every connection after its transfer")
        ("no-sessionid", "switch the TLS session cache off")
        ("handshake-spacing-ms", po::value(&opt.handshake_spacing_ms), "pool_options::handshake_spacing (default: the library's)")
        ("no-share-handshake", "pool_options::share_first_handshake off")
        ("blinker-ms", po::value(&opt.blinker_ms), "run a blinker with this period and report its lateness")
        ("idle-ms", po::value(&opt.idle_ms), "with --requests 0: run the blinker alone this long")
        ("show-worst", po::value(&opt.show_worst), "with --blinker-ms: list the N latest toggles")
        ("expect-status", po::value(&opt.expect_status), "status every transfer must answer (default 200)");
    // clang-format on
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, d), vm);
        if (vm.count("help")) {
            std::cout << d << "\n";
            return 0;
        }
        po::notify(vm);
        opt.post_set = vm.count("post") > 0;
        opt.keep_alive = vm.count("no-keepalive") == 0;
        opt.session_cache = vm.count("no-sessionid") == 0;
        opt.share_first_handshake = vm.count("no-share-handshake") == 0;
        if (opt.connections == 0)
            throw po::error("--connections must be positive");
        if (opt.requests > 0 && opt.url.empty())
            throw po::error("--url is required");
        if (opt.requests == 0 && (opt.idle_ms == 0 || opt.blinker_ms == 0))
            throw po::error("--requests 0 needs --idle-ms and --blinker-ms");
    } catch (const po::error& e) {
        std::fprintf(stderr, "edgeloop_bench: %s\n", e.what());
        return 2;
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "edgeloop_bench: %s\n", e.what());
        return 3;
    }
}
