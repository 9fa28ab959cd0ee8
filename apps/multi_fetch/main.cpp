// multi_fetch: the Azure Sphere "HTTPS cURL Multi" sample on edgeloop. Composition root only: parse the
// command line, build the TLS context, client, multi and (with --demo) the embedded server, run the
// reactor.

#include "options.hpp"
#include "output.hpp"
#include "url_source.hpp"

#include <edgeloop/boards.hpp>
#include <edgeloop/core.hpp>
#include <edgeloop/devserver.hpp>
#include <edgeloop/gpio.hpp>
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace edgeloop;
using multi_fetch::exit_status;

struct run_totals {
    std::size_t transfers = 0;
    std::size_t failed = 0;
    std::size_t aborted = 0;
    std::uint64_t bytes = 0;
};

/// One line on stderr, redrawn while transfers run, when stderr is a terminal.
class progress_line {
public:
    progress_line(boost::asio::any_io_executor ex, bool enabled)
        : timer_(ex)
        , enabled_(enabled) {}

    void set(std::size_t id, std::uint64_t bytes) {
        if (enabled_)
            bytes_[id] = bytes;
    }
    void done(std::size_t id) { bytes_.erase(id); }
    void start() {
        if (!enabled_)
            return;
        timer_.expires_after(std::chrono::milliseconds(250));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            draw();
            start();
        });
    }
    void stop() {
        if (!enabled_)
            return;
        timer_.cancel();
        std::fputs("\r\033[K", stderr);
    }

private:
    void draw() {
        std::string line = "\r\033[K";
        for (const auto& [id, b] : bytes_)
            line += "[" + std::to_string(id) + "] " + std::to_string(b / 1024) + " KiB  ";
        std::fputs(line.c_str(), stderr);
    }

    boost::asio::steady_timer timer_;
    bool enabled_;
    std::map<std::size_t, std::uint64_t> bytes_;
};

http::client_options client_options_from(const multi_fetch::options& opt) {
    http::client_options o;
    if (opt.connect_timeout)
        o.timeouts.resolve = o.timeouts.connect = o.timeouts.handshake = *opt.connect_timeout;
    if (opt.max_time)
        o.timeouts.total = *opt.max_time;
    o.pool.max_total = opt.max_total;
    o.pool.max_per_host = opt.max_per_host;
    // URLs are read as the transfers run: only this many wait for a connection at a time.
    o.pool.max_queued = std::max<std::size_t>(64, opt.max_total);
    o.pool.tls_session_cache = opt.session_cache;
    o.redirects.follow = opt.follow;
    o.redirects.max_redirects = opt.max_redirs;
    o.allowed_hosts = opt.allow;
    return o;
}

int run(const multi_fetch::options& opt) {
    core::log::set_level(opt.verbose >= 2   ? core::log_level::debug
                         : opt.verbose == 1 ? core::log_level::info
                                            : core::log_level::warn);
    core::reactor reactor;

    std::unique_ptr<devserver::server> demo_server;
    std::vector<std::string> urls = opt.urls;
    tls::options tls_opts{
        .ca_file = opt.cacert,
        .ca_dir = opt.capath,
        .client_identity = tls::identity::from_arguments(opt.cert, opt.key, opt.pass, {.file = opt.pin_file}),
        .insecure = opt.insecure};
    if (opt.demo) {
        demo_server = std::make_unique<devserver::server>(reactor.executor());
        if (urls.empty())
            urls = {demo_server->url("/200?sleep=5000"), demo_server->url("/400?sleep=1000")};
        if (tls_opts.ca_file.empty())
            tls_opts.ca_file = demo_server->ca_file();
        std::printf("Demo server listening on %s (CA %s)\n", demo_server->url("/").c_str(),
                    demo_server->ca_file().c_str());
    }
    if (urls.empty() && opt.url_files.empty())
        urls = multi_fetch::default_urls();
    if (!opt.output_dir.empty() && !std::filesystem::is_directory(opt.output_dir)) {
        std::fprintf(stderr, "multi_fetch: --output-dir %s: not a directory\n", opt.output_dir.c_str());
        return multi_fetch::exit_usage;
    }

    std::optional<tls::context> tls_ctx;
    try {
        tls_ctx.emplace(tls_opts);
    } catch (const tls::config_error& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_config;
    }
    std::optional<http::client> client;
    try {
        client.emplace(reactor.executor(), std::move(*tls_ctx), client_options_from(opt));
    } catch (const std::invalid_argument& e) { // a malformed --allow entry
        std::fprintf(stderr, "multi_fetch: --allow: %s\n", e.what());
        return multi_fetch::exit_usage;
    }
    http::multi transfers(*client);
    progress_line progress(reactor.executor(), ::isatty(STDERR_FILENO) == 1 && !opt.quiet);
    std::unique_ptr<multi_fetch::url_source> source;
    bool bad_url_file = false;
    reactor.on_stop([&] {
        if (source)
            source->cancel();
        transfers.stop();
        client->cancel_all();
        if (demo_server)
            demo_server->stop();
    });

    // The board: button A starts a batch of transfers, LED1 blinks from start to stop.
    std::unique_ptr<boards::board> board;
    gpio::input* button = nullptr;
    gpio::output* led = nullptr;
    try {
        board = boards::open_board(reactor.executor(), opt.board.board, opt.board.sim(opt.verbose > 0));
        button = &board->input(opt.board.button);
        led = &board->output(opt.board.led);
    } catch (const std::exception& e) { // definition_error, lookup_error, system_error (device, FIFO)
        std::fprintf(stderr, "multi_fetch: board: %s\n", e.what());
        return multi_fetch::exit_board;
    }
    gpio::blinker blinker(reactor.executor(), *led, std::chrono::milliseconds(500));
    blinker.start();

    run_totals totals;
    std::size_t batch = 0;
    bool batch_running = false;
    const bool wait_for_press = !opt.now && board->more_presses_possible();
    multi_fetch::name_picker names(opt.output_dir);
    const auto started = std::chrono::steady_clock::now();
    gpio::subscription presses;

    const auto prompt = [&] {
        std::printf(" -==- Press %s to start the downloads -==-\n", opt.board.button.c_str());
        std::fflush(stdout);
    };
    // One transfer for URL number n: nullopt when its output file cannot be created (counted failed).
    const auto make_transfer = [&](std::size_t n, const std::string& url) -> std::optional<http::transfer> {
        auto printer = std::make_shared<multi_fetch::line_printer>(n);
        std::shared_ptr<multi_fetch::file_sink> file;
        if (!opt.output_dir.empty()) {
            file = std::make_shared<multi_fetch::file_sink>(names.pick(url));
            if (!file->ok()) {
                std::fprintf(stderr, "multi_fetch: %s\n", file->error().c_str());
                ++totals.failed;
                return std::nullopt;
            }
        }
        auto received = std::make_shared<std::uint64_t>(0);
        http::handlers h;
        h.on_body = [&, n, printer, file, received](std::span<const std::byte> bytes) {
            *received += bytes.size();
            progress.set(n, *received);
            if (file)
                file->write(bytes);
            else if (!opt.quiet)
                printer->feed(bytes);
        };
        auto on_done = [&, n, printer, file](const boost::system::error_code& ec,
                                             const http::transfer_info& info) {
            progress.done(n);
            printer->flush();
            ++totals.transfers;
            totals.bytes += info.body_bytes;
            const bool status_ok = info.status >= 200 && info.status < 300;
            std::string where;
            bool failed = ec || (opt.fail && !status_ok);
            if (file) {
                if (failed)
                    file->discard();
                else if (file->commit())
                    where = " -> " + file->path();
                else {
                    failed = true;
                    std::fprintf(stderr, "multi_fetch: %s\n", file->error().c_str());
                }
            }
            if (ec) {
                totals.aborted += ec == boost::asio::error::operation_aborted;
                std::printf("%s-==- %s download failed: %s (elapsed time %lld milliseconds) -==-\n",
                            printer->prefix().c_str(), core::redact_url(info.url).c_str(),
                            http::describe(ec, info).c_str(), static_cast<long long>(info.elapsed.count()));
            } else {
                std::printf(
                    "%s-==- %s download complete: HTTP %u, %llu bytes%s (elapsed time %lld milliseconds) "
                    "-==-\n",
                    printer->prefix().c_str(), core::redact_url(info.url).c_str(), info.status,
                    static_cast<unsigned long long>(info.body_bytes), where.c_str(),
                    static_cast<long long>(info.elapsed.count()));
            }
            totals.failed += failed;
            std::fflush(stdout);
        };
        return http::transfer{.req = {.url = url}, .callbacks = std::move(h), .on_done = std::move(on_done)};
    };

    // Once every URL is read (or reading stopped), wait for the transfers still running.
    const auto all_added = [&] {
        if (!source->error().empty()) {
            std::fprintf(stderr, "multi_fetch: %s\n", source->error().c_str());
            bad_url_file = true;
        }
        transfers.async_wait_all([&](boost::system::error_code) {
            batch_running = false;
            progress.stop();
            if (!wait_for_press || !board->more_presses_possible() || reactor.stopping())
                reactor.stop();
            else
                prompt();
        });
    };
    // The feeding loop: the next URL, then async_add, which waits while pool_options::max_queued
    // transfers wait for a connection; then the next URL.
    std::size_t numbered = 0;
    std::function<void()> feed = [&] {
        source->async_next([&](std::optional<std::string> url) {
            if (!url)
                return all_added();
            auto t = make_transfer(++numbered, *url);
            if (!t) // posted: a run of failures must not recurse
                return boost::asio::post(reactor.executor(), feed);
            transfers.async_add(std::move(*t), [&](boost::system::error_code ec, http::multi::id) {
                if (ec) // stopped
                    return all_added();
                feed();
            });
        });
    };
    std::function<void()> start_batch = [&] {
        batch_running = true;
        ++batch;
        std::printf(" -==- Starting downloads -==-\n");
        std::fflush(stdout);
        // Read afresh on each press (stdin only once: it is at its end after the first).
        source = std::make_unique<multi_fetch::url_source>(reactor.executor(), urls, opt.url_files);
        numbered = 0;
        progress.start();
        feed();
    };

    reactor.on_stop([&] {
        presses.cancel();
        blinker.stop(true);
        board->close();
    });
    if (wait_for_press) {
        prompt();
        presses = gpio::subscribe(
            *button,
            [&](const gpio::edge_event&) {
                if (batch_running) {
                    std::printf(" -==- Transfers still running: press ignored -==-\n");
                    std::fflush(stdout);
                    return;
                }
                start_batch();
            },
            true);
    } else {
        start_batch();
    }
    reactor.run();

    const auto wall =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::printf("Summary: %zu transfers, %zu failed, %llu bytes, wall time %lld milliseconds\n",
                totals.transfers, totals.failed, static_cast<unsigned long long>(totals.bytes),
                static_cast<long long>(wall.count()));
    if (opt.verbose > 0)
        std::fprintf(stderr, "%s\n", blinker.report().c_str());
    std::printf("Application exiting.\n");
    if (reactor.stop_signal() != 0 && (totals.aborted > 0 || batch == 0))
        return multi_fetch::exit_interrupted;
    if (bad_url_file)
        return multi_fetch::exit_usage;
    return totals.failed > 0 ? multi_fetch::exit_transfer : multi_fetch::exit_ok;
}

} // namespace

int main(int argc, char* argv[]) {
    multi_fetch::options opt;
    try {
        opt = multi_fetch::parse_options(argc, argv);
    } catch (const multi_fetch::usage_error& e) {
        std::fprintf(stderr, "multi_fetch: %s\nTry 'multi_fetch --help' for more information.\n", e.what());
        return multi_fetch::exit_usage;
    }
    if (opt.help) {
        std::cout << multi_fetch::help_text();
        return multi_fetch::exit_ok;
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_transfer;
    }
}
